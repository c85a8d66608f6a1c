// Checkpoints: an interrupted run that saves, reloads into FRESH objects and continues must end
// bit-identical (torch::equal) to an uninterrupted one - for Adam, AMSGrad and SGD with momentum,
// with dropout drawing from the restored RNG. Plus: values round trip exactly, mismatched models
// are refused by name, writes are atomic (new inode renamed in), and damaged files are clear
// errors that never cost a checkpoint already saved.
#include "core/checkpoint/Checkpoint.h"
#include "core/io/SafeTensors.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <limits>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using tkd::Checkpoint;

namespace {

// Small, but with every kind of state: parameters, BatchNorm buffers (incl. an int64 counter)
// and dropout (so the RNG state matters).
struct NetImpl : torch::nn::Module
{
    explicit NetImpl(int64_t hidden = 16)
    {
        fc1 = register_module("fc1", torch::nn::Linear(8, hidden));
        bn = register_module("bn", torch::nn::BatchNorm1d(hidden));
        drop = register_module("drop", torch::nn::Dropout(0.3));
        fc2 = register_module("fc2", torch::nn::Linear(hidden, 3));
    }
    torch::Tensor forward(const torch::Tensor &x) { return fc2(drop(torch::relu(bn(fc1(x))))); }
    torch::nn::Linear fc1 { nullptr }, fc2 { nullptr };
    torch::nn::BatchNorm1d bn { nullptr };
    torch::nn::Dropout drop { nullptr };
};
TORCH_MODULE(Net);

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const QString &kind, Net &net)
{
    // Two parameter groups, so group handling is exercised.
    std::vector<torch::Tensor> first, second;
    for (auto &p : net->named_parameters())
        (p.key().rfind("fc2", 0) == 0 ? second : first).push_back(p.value());
    if (kind == "sgd") {
        std::vector<torch::optim::OptimizerParamGroup> groups;
        groups.emplace_back(first,
            std::make_unique<torch::optim::SGDOptions>(
                torch::optim::SGDOptions(0.05).momentum(0.9).nesterov(true)));
        groups.emplace_back(second,
            std::make_unique<torch::optim::SGDOptions>(
                torch::optim::SGDOptions(0.02).momentum(0.5).weight_decay(1e-3)));
        return std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(0.05));
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    auto opts = torch::optim::AdamOptions(1e-2).amsgrad(kind == "amsgrad");
    groups.emplace_back(first, std::make_unique<torch::optim::AdamOptions>(opts));
    groups.emplace_back(second,
        std::make_unique<torch::optim::AdamOptions>(
            torch::optim::AdamOptions(3e-3).weight_decay(1e-4).amsgrad(kind == "amsgrad")));
    return std::make_unique<torch::optim::Adam>(groups, opts);
}

void trainSteps(Net &net, torch::optim::Optimizer &opt, int steps)
{
    net->train();
    for (int i = 0; i < steps; ++i) {
        // Data drawn from the global generator: a wrong RNG restore changes every later step.
        const auto x = torch::randn({ 12, 8 });
        const auto y = torch::randint(0, 3, { 12 });
        opt.zero_grad();
        auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        loss.backward();
        opt.step();
        // A scheduler-like change of the learning rate: must survive the checkpoint too.
        for (auto &g : opt.param_groups())
            g.options().set_lr(g.options().get_lr() * 0.9);
    }
}

void expectSameModule(Net &a, Net &b)
{
    auto pa = a->named_parameters();
    auto pb = b->named_parameters();
    for (auto &p : pa)
        QVERIFY2(torch::equal(p.value(), pb[p.key()]), p.key().c_str());
    auto ba = a->named_buffers();
    auto bb = b->named_buffers();
    for (auto &p : ba)
        QVERIFY2(torch::equal(p.value(), bb[p.key()]), p.key().c_str());
}

std::string readBytes(const std::string &path)
{
    return tkd::readFile(path);
}

void writeBytes(const std::string &path, const std::string &bytes)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), std::streamsize(bytes.size()));
}

} // namespace

class TestCheckpoint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void exactResume_data()
    {
        QTest::addColumn<QString>("optimizer");
        QTest::newRow("adam") << "adam";
        QTest::newRow("amsgrad") << "amsgrad";
        QTest::newRow("sgd nesterov") << "sgd";
    }

    void exactResume()
    {
        QFETCH(QString, optimizer);
        QTemporaryDir dir;
        const std::string path = dir.filePath("ckpt.safetensors").toStdString();

        // Uninterrupted: 10 steps.
        torch::manual_seed(7);
        Net straight;
        auto straightOpt = makeOptimizer(optimizer, straight);
        trainSteps(straight, *straightOpt, 10);
        const torch::Tensor straightNext = torch::randn({ 4 });

        // Interrupted: 6 steps, save, and everything thrown away.
        torch::manual_seed(7);
        {
            Net first;
            auto opt = makeOptimizer(optimizer, first);
            trainSteps(first, *opt, 6);
            Checkpoint c;
            c.step = 6;
            c.epoch = 1;
            c.configHash = "abc123";
            c.setModule(*first);
            c.setOptimizer(*opt);
            c.captureTorchRng();
            c.setValue("scheduler.last_lr", opt->param_groups()[0].options().get_lr());
            c.save(path);
        }
        // Fresh objects from a different seed, and the global RNG disturbed.
        torch::manual_seed(12345);
        Net resumed;
        auto opt = makeOptimizer(optimizer, resumed);
        torch::randn({ 100 });
        const Checkpoint loaded = Checkpoint::load(path);
        QCOMPARE(loaded.step, int64_t(6));
        QCOMPARE(loaded.epoch, int64_t(1));
        QCOMPARE(loaded.configHash, std::string("abc123"));
        loaded.loadModule(*resumed);
        loaded.loadOptimizer(*opt);
        loaded.restoreTorchRng();
        QCOMPARE(loaded.value("scheduler.last_lr"), opt->param_groups()[0].options().get_lr());
        trainSteps(resumed, *opt, 4);

        expectSameModule(straight, resumed);
        for (size_t g = 0; g < opt->param_groups().size(); ++g)
            QCOMPARE(opt->param_groups()[g].options().get_lr(),
                straightOpt->param_groups()[g].options().get_lr());
        // And the generator continues where the uninterrupted run's did.
        QVERIFY(torch::equal(torch::randn({ 4 }), straightNext));
    }

    void resumeWithoutTheRngDiverges()
    {
        // The exactness test above is only meaningful if skipping a part breaks it.
        QTemporaryDir dir;
        const std::string path = dir.filePath("ckpt.safetensors").toStdString();
        torch::manual_seed(7);
        Net straight;
        auto straightOpt = makeOptimizer("adam", straight);
        trainSteps(straight, *straightOpt, 8);

        torch::manual_seed(7);
        Net first;
        auto opt = makeOptimizer("adam", first);
        trainSteps(first, *opt, 4);
        Checkpoint c;
        c.setModule(*first);
        c.setOptimizer(*opt);
        c.save(path);
        torch::manual_seed(99);
        Net resumed;
        auto opt2 = makeOptimizer("adam", resumed);
        const Checkpoint loaded = Checkpoint::load(path);
        loaded.loadModule(*resumed);
        loaded.loadOptimizer(*opt2);
        trainSteps(resumed, *opt2, 4);
        QVERIFY(!torch::equal(straight->fc1->weight, resumed->fc1->weight));
        QVERIFY_THROWS_EXCEPTION(tkd::Error, loaded.restoreTorchRng()); // none was captured
    }

    void valuesRoundTripExactly()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("v.safetensors").toStdString();
        Checkpoint c;
        c.setValue("best", 0.1 + 0.2);
        c.setValue("tiny", 4.9406564584124654e-324);
        c.setInt("big", int64_t(9007199254740993));
        c.setText("note", "ünïcode \"quoted\"");
        c.setTensor("extra.rng_words", torch::tensor({ int64_t(1), int64_t(-2) }));
        c.save(path);
        const Checkpoint back = Checkpoint::load(path);
        QCOMPARE(back.value("best"), 0.1 + 0.2);
        QCOMPARE(back.value("tiny"), 4.9406564584124654e-324);
        QCOMPARE(back.intValue("big"), int64_t(9007199254740993));
        QCOMPARE(back.text("note"), std::string("ünïcode \"quoted\""));
        QVERIFY(back.hasValue("best") && !back.hasValue("nope"));
        QVERIFY(torch::equal(
            back.tensor("extra.rng_words"), torch::tensor({ int64_t(1), int64_t(-2) })));
        try {
            back.value("nope");
            QFAIL("missing value accepted");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find(path) != std::string::npos);
            QVERIFY(std::string(e.what()).find("nope") != std::string::npos);
        }
    }

    // Issue 15: a 2 GB (sparse) safetensors file that is not a checkpoint is refused from its
    // header, without reading its data.
    void bigForeignFileIsRefusedFromItsHeader()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("big.safetensors").toStdString();
        const uint64_t bytes = 2ull << 30;
        std::string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(bytes / 4)
            + "],\"data_offsets\":[0," + std::to_string(bytes) + "]}}";
        while ((header.size() + 8) % 8)
            header += ' ';
        std::string file(8, '\0');
        for (int i = 0; i < 8; ++i)
            file[size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xFF);
        writeBytes(path, file + header);
        QCOMPARE(::truncate(path.c_str(), off_t(8 + header.size() + bytes)), 0); // a hole
        rusage before {};
        ::getrusage(RUSAGE_SELF, &before);
        try {
            Checkpoint::load(path);
            QFAIL("accepted");
        } catch (const tkd::Error &e) {
            QVERIFY2(std::string(e.what()).find("is not a TKD checkpoint") != std::string::npos,
                e.what());
        }
        rusage after {};
        ::getrusage(RUSAGE_SELF, &after);
        const long grownMb = (after.ru_maxrss - before.ru_maxrss) / 1024;
        QVERIFY2(grownMb < 256, qPrintable(QString("peak memory grew by %1 MB").arg(grownMb)));
    }

    void mismatchedModelIsRefusedByName()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("m.safetensors").toStdString();
        Net small(16);
        Checkpoint c;
        c.setModule(*small);
        c.save(path);
        const Checkpoint loaded = Checkpoint::load(path);

        Net wide(32);
        const torch::Tensor before = wide->fc2->weight.clone();
        try {
            loaded.loadModule(*wide);
            QFAIL("loaded into a different shape");
        } catch (const tkd::Error &e) {
            const std::string what = e.what();
            QVERIFY2(what.find(path) != std::string::npos, what.c_str());
            QVERIFY2(what.find("model.fc1.weight") != std::string::npos, what.c_str());
            QVERIFY2(what.find("[16, 8]") != std::string::npos, what.c_str());
        }
        QVERIFY(torch::equal(before, wide->fc2->weight)); // untouched: nothing half-loaded

        // A model with fewer tensors: the extra one is named.
        struct LinearOnly : torch::nn::Module
        {
            LinearOnly() { fc1 = register_module("fc1", torch::nn::Linear(8, 16)); }
            torch::nn::Linear fc1 { nullptr };
        } partial;
        try {
            loaded.loadModule(partial);
            QFAIL("loaded into a model lacking tensors");
        } catch (const tkd::Error &e) {
            QVERIFY2(std::string(e.what()).find("has no place") != std::string::npos, e.what());
        }

        // Issue 15: a diverged model (NaN weights) is refused by name, never loaded to be run or
        // exported.
        {
            Net diverged(16);
            torch::NoGradGuard noGrad;
            diverged->fc2->weight[0][1] = std::numeric_limits<float>::quiet_NaN();
            Checkpoint bad;
            bad.setModule(*diverged);
            const std::string badPath = dir.filePath("nan.safetensors").toStdString();
            bad.save(badPath);
            Net into(16);
            try {
                Checkpoint::load(badPath).loadModule(*into);
                QFAIL("NaN weights loaded");
            } catch (const tkd::Error &e) {
                const std::string what = e.what();
                QVERIFY2(what.find("model.fc2.weight") != std::string::npos
                        && what.find("NaN") != std::string::npos,
                    what.c_str());
            }
        }

        // Optimiser of the other kind, and state for a different parameter count.
        Net net;
        auto adam = makeOptimizer("adam", net);
        trainSteps(net, *adam, 1);
        Checkpoint withAdam;
        withAdam.setOptimizer(*adam);
        auto sgd = makeOptimizer("sgd", net);
        try {
            withAdam.loadOptimizer(*sgd);
            QFAIL("adam state loaded into sgd");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find("adam") != std::string::npos);
        }
    }

    void saveIsAtomic()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("a.safetensors").toStdString();
        const std::string keep = dir.filePath("held-by-a-reader").toStdString();
        Checkpoint c;
        c.step = 1;
        c.setTensor("x", torch::ones({ 1000 }));
        c.save(path);
        // A reader that has the old file open (here: a second hard link) keeps the old bytes:
        // the new checkpoint is a new file renamed over the name, never rewritten in place.
        QVERIFY(::link(path.c_str(), keep.c_str()) == 0);
        const std::string oldBytes = readBytes(path);
        c.step = 2;
        c.setTensor("x", torch::zeros({ 1000 }));
        c.save(path);
        QCOMPARE(readBytes(keep), oldBytes);
        QCOMPARE(Checkpoint::load(keep).step, int64_t(1));
        QCOMPARE(Checkpoint::load(path).step, int64_t(2));
        // And no temp files are left behind.
        const QStringList files = QDir(dir.path()).entryList(QDir::Files);
        QCOMPARE(files.size(), 2);
    }

    void damagedFilesAreClearErrors_data()
    {
        QTest::addColumn<QString>("damage");
        QTest::newRow("truncated") << "truncated";
        QTest::newRow("header garbage") << "garbage";
        QTest::newRow("empty") << "empty";
        QTest::newRow("not a checkpoint") << "foreign";
        QTest::newRow("missing") << "missing";
    }

    void damagedFilesAreClearErrors()
    {
        QFETCH(QString, damage);
        QTemporaryDir dir;
        const std::string good = dir.filePath("good.safetensors").toStdString();
        const std::string bad = dir.filePath("bad.safetensors").toStdString();
        Net net;
        Checkpoint c;
        c.step = 5;
        c.setModule(*net);
        c.save(good);
        const std::string bytes = readBytes(good);
        if (damage == "truncated")
            writeBytes(bad, bytes.substr(0, bytes.size() - 7));
        else if (damage == "garbage")
            writeBytes(bad, std::string(8, '\x20') + "{not json at all" + bytes.substr(30));
        else if (damage == "empty")
            writeBytes(bad, "");
        else if (damage == "foreign")
            tkd::safetensors::save(bad, { { "w", torch::ones({ 2 }) } }, { { "format", "pt" } });
        try {
            Checkpoint::load(bad);
            QFAIL("loaded a damaged file");
        } catch (const tkd::Error &e) {
            QVERIFY2(std::string(e.what()).find(bad) != std::string::npos, e.what());
            if (damage == "foreign")
                QVERIFY(std::string(e.what()).find("not a TKD checkpoint") != std::string::npos);
        }
        // The good checkpoint is unaffected.
        Net other;
        Checkpoint::load(good).loadModule(*other);
        expectSameModule(net, other);
    }

    void failedSaveKeepsThePreviousFile()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("c.safetensors").toStdString();
        Checkpoint c;
        c.step = 1;
        c.setTensor("x", torch::arange(10));
        c.save(path);
        Checkpoint broken = c;
        broken.step = 2;
        broken.setTensor("bad", torch::ones({ 2 }, torch::kComplexFloat)); // no safetensors dtype
        QVERIFY_THROWS_EXCEPTION(tkd::Error, broken.save(path));
        QCOMPARE(Checkpoint::load(path).step, int64_t(1));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 1);
        // Unwritable destination: a clear error naming it.
        try {
            c.save("/nonexistent-dir/c.safetensors");
            QFAIL("saved into a missing folder");
        } catch (const tkd::Error &e) {
            QVERIFY(
                std::string(e.what()).find("/nonexistent-dir/c.safetensors") != std::string::npos);
        }
    }
};

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "tst_checkpoint.moc"
