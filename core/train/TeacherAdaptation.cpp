// The pretrained teacher inside TeacherTrainer: the shipped file, using it as is when its classes
// are the dataset's, and a new head on the frozen teacher (a linear probe) when they are not.
#include "core/train/TeacherTrainer.h"

#include "core/models/ShippedModels.h"
#include "core/train/Batcher.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"
#include "core/util/Resources.h"

#include <algorithm>
#include <map>

namespace tkd {

const char *TeacherTrainer::shippedTeacherName()
{
    return kShippedTeacherResource;
}

std::string TeacherTrainer::shippedTeacherPath()
{
    return findResource(shippedTeacherName());
}

bool TeacherTrainer::isSpectral() const
{
    if (m_options.kind != TeacherKind::Pretrained)
        return isSpectralTeacher(m_options.kind);
    try { // the checkpoint's own kind, by the one name table
        return isSpectralTeacher(teacherKindFromName(m_pretrainedInfo.kind));
    } catch (const Error &) {
        return false; // a kind this build does not know: not a spectral teacher
    }
}

bool TeacherTrainer::usesPretrainedAsIs() const
{
    if (m_options.kind != TeacherKind::Pretrained || m_options.fineTune == TeacherFineTune::All)
        return false;
    const auto &classes = m_pretrainedInfo.classes;
    return classes == m_data.index().classes;
}

TeacherResult TeacherTrainer::runPretrainedAsIs(std::chrono::steady_clock::time_point t0)
{
    const auto &o = m_options;
    if (m_observer)
        m_observer->onStage(
            { o.stage, "pretrained teacher " + m_pretrainedPath + " (no adaptation: same classes)",
                0, 0, 0.0, -1.0, false });
    TeacherResult pre = evaluateOnly(buildModel());
    pre.checkpoint = m_pretrainedPath;
    if (!o.checkpointDir.empty()) {
        // A copy in the run folder (a few hundred KB): the run stays self-contained, and the
        // studio's Attention and Live views find its teacher where they find trained ones.
        makeDirs(o.checkpointDir);
        pre.checkpoint = o.checkpointDir + "/best.safetensors";
        writeFileAtomic(pre.checkpoint, readFile(m_pretrainedPath));
    }
    pre.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (m_observer)
        m_observer->onStage({ o.stage, "teacher ready", 0, 0, pre.seconds, 0.0, true });
    return pre;
}

std::vector<int64_t> TeacherTrainer::probeRows(const torch::Tensor &targets) const
{
    const int64_t n = targets.size(0);
    std::vector<int64_t> rows;
    if (m_options.probeClipsPerClass <= 0) {
        for (int64_t i = 0; i < n; ++i)
            rows.push_back(i);
        return rows;
    }
    // A class per clip: the label, or a multi-label clip's first label.
    const torch::Tensor cls = targets.dim() == 1 ? targets : targets.argmax(1);
    const auto *c = cls.data_ptr<int64_t>();
    std::map<int64_t, int64_t> taken;
    const Batcher order(n, n, m_options.seed); // one seeded permutation of the clips
    for (const torch::Tensor &perm : order.batches(0)) {
        const auto *p = perm.data_ptr<int64_t>();
        for (int64_t k = 0; k < perm.numel(); ++k)
            if (taken[c[p[k]]]++ < m_options.probeClipsPerClass)
                rows.push_back(p[k]);
    }
    std::sort(rows.begin(), rows.end());
    return rows;
}

torch::Tensor TeacherTrainer::frameOneOutputs(
    Wav2Vec2Model &model, Split split, const std::vector<int64_t> &rows)
{
    torch::NoGradGuard noGrad;
    model->eval();
    const int64_t n = rows.empty() ? int64_t(m_data.size(split)) : int64_t(rows.size());
    std::vector<torch::Tensor> parts;
    for (int64_t first = 0; first < n; first += m_options.evalBatchSize) {
        if (m_control && m_control->cancelRequested())
            throw Cancelled();
        const int64_t count = std::min<int64_t>(m_options.evalBatchSize, n - first);
        const torch::Tensor x = rows.empty()
            ? inputBatch(split, first, count)
            : inputRows(
                split, std::vector<int64_t>(rows.begin() + first, rows.begin() + first + count));
        const Wav2Vec2Output out = model->forward(x.to(m_options.device));
        parts.push_back(out.lastHiddenState.select(1, 0).to(torch::kCPU));
        if (m_observer)
            m_observer->onStage({ m_options.stage,
                std::string("frozen teacher on the ") + splitName(split) + " clips", first + count,
                n, 0.0, -1.0, false });
    }
    return torch::cat(parts, 0);
}

TeacherResult TeacherTrainer::adaptHead(std::chrono::steady_clock::time_point t0)
{
    const auto &o = m_options;
    Wav2Vec2Model model = buildModel(); // the pretrained body with a fresh head
    for (auto &p : model->parameters())
        p.set_requires_grad(false);
    const torch::Tensor allTrainY = m_prepared->items(Split::Train).targets;
    const std::vector<int64_t> rows = probeRows(allTrainY);
    if (m_observer && int64_t(rows.size()) < allTrainY.size(0))
        m_observer->onMessage(TrainObserver::Level::Info,
            "the linear probe reads " + std::to_string(rows.size()) + " of the "
                + std::to_string(allTrainY.size(0)) + " training clips (at most "
                + std::to_string(m_options.probeClipsPerClass)
                + " per class: teacher.probe_clips_per_class)");
    const torch::Tensor trainX = frameOneOutputs(model, Split::Train, rows),
                        valX = frameOneOutputs(model, Split::Validation);
    const torch::Tensor trainY
        = allTrainY.index_select(0, torch::tensor(rows, torch::dtype(torch::kInt64)));
    const torch::Tensor valY = m_prepared->items(Split::Validation).targets;
    const bool multiLabel = m_data.index().multiLabel;
    torch::nn::Linear head(trainX.size(1), int64_t(m_data.index().classes.size()));
    torch::manual_seed(o.seed);
    torch::optim::AdamW optimizer(
        head->parameters(), torch::optim::AdamWOptions(o.lr).weight_decay(o.weightDecay));
    const Batcher batcher(trainX.size(0), o.batchSize, o.seed);
    double bestAcc = -1.0;
    torch::Tensor bestW, bestB;
    int64_t step = 0;
    for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
        double lossSum = 0.0;
        int64_t batches = 0;
        for (const torch::Tensor &idx : batcher.batches(epoch)) {
            const torch::Tensor loss = taskLoss(head->forward(Batcher::gather(trainX, idx)),
                Batcher::gather(trainY, idx), multiLabel);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            lossSum += loss.item<double>();
            ++batches;
            ++step;
        }
        torch::NoGradGuard noGrad;
        const double acc = Metrics::classification(head->forward(valX), valY, multiLabel).accuracy;
        if (acc > bestAcc) {
            bestAcc = acc;
            bestW = head->weight.detach().clone();
            bestB = head->bias.detach().clone();
        }
        if (m_observer) {
            EpochReport er;
            er.stage = o.stage;
            er.epoch = epoch + 1;
            er.step = step;
            er.validation = { { "accuracy", acc } };
            const double mean = batches ? lossSum / double(batches) : 0.0;
            er.trainLosses = { { "task", mean }, { "total", mean } };
            er.best = acc == bestAcc;
            m_observer->onEpoch(er);
        }
    }
    {
        torch::NoGradGuard noGrad;
        for (const auto &p : model->named_parameters()) {
            if (p.key() == "head.weight")
                p.value().copy_(bestW);
            else if (p.key() == "head.bias")
                p.value().copy_(bestB);
        }
    }
    TeacherResult r;
    r.kind = teacherKindName(o.kind);
    r.epochsRun = int(o.epochs);
    r.validation = evaluate(model, Split::Validation);
    if (!o.checkpointDir.empty()) {
        makeDirs(o.checkpointDir);
        r.checkpoint = o.checkpointDir + "/best.safetensors";
        TrainedModels::saveTeacher(r.checkpoint, model, m_pretrainedInfo.kind,
            m_data.index().classes, spectralFeatures(),
            { { "val_accuracy", r.validation.metrics.accuracy },
                { "val_localisation", r.validation.localisation.mean() } },
            { { "weights", m_pretrainedPath }, { "config_hash", o.configHash },
                { "adapted", "head" } });
    }
    finish(r, model, t0);
    if (m_observer)
        m_observer->onStage({ o.stage, "teacher ready (new head on the pretrained teacher)", step,
            step, r.seconds, 0.0, true });
    return r;
}

} // namespace tkd
