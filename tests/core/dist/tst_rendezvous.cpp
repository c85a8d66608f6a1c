// Rendezvous from the environment as torchrun and srun set it, and the errors that name the
// variable at fault. No process group is joined here (tst_dataparallel does that).
#include "core/dist/Rendezvous.h"
#include "core/util/Error.h"

#include <QtTest>

#include <map>
#include <string>

namespace {
using Env = std::map<std::string, std::string>;

tkd::Rendezvous parse(const Env &env)
{
    return tkd::Rendezvous::fromEnvironment([&env](const char *name) -> const char * {
        const auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

// The variable a bad environment is blamed on ("" when it parses).
std::string blamed(const Env &env)
{
    try {
        parse(env);
    } catch (const tkd::Error &e) {
        return e.subject();
    }
    return {};
}
} // namespace

class TestRendezvous : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void noVariablesIsAWorldOfOne()
    {
        const tkd::Rendezvous r = parse({});
        QCOMPARE(r.worldSize, 1);
        QVERIFY(!r.distributed());
        // An sbatch script's own shell (no job step) is one process, whatever SLURM_NTASKS says.
        QVERIFY(!parse({ { "SLURM_NTASKS", "4" }, { "SLURM_PROCID", "0" } }).distributed());
    }

    void torchrunEnvironment()
    {
        const tkd::Rendezvous r = parse({ { "WORLD_SIZE", "4" }, { "RANK", "3" },
            { "LOCAL_RANK", "1" }, { "MASTER_ADDR", "10.0.0.7" }, { "MASTER_PORT", "29501" },
            { "SLURM_STEP_ID", "0" }, { "SLURM_NTASKS", "8" }, { "SLURM_PROCID", "5" } });
        QCOMPARE(r.source, std::string("env")); // WORLD_SIZE wins over Slurm's variables
        QCOMPARE(r.worldSize, 4);
        QCOMPARE(r.rank, 3);
        QCOMPARE(r.localRank, 1);
        QCOMPARE(r.masterAddr, std::string("10.0.0.7"));
        QCOMPARE(r.masterPort, 29501);
    }

    void srunEnvironment()
    {
        const tkd::Rendezvous r = parse({ { "SLURM_STEP_ID", "0" }, { "SLURM_NTASKS", "8" },
            { "SLURM_PROCID", "5" }, { "SLURM_LOCALID", "1" }, { "SLURM_JOB_ID", "123456" },
            { "SLURM_JOB_NODELIST", "gpu[07-10],login2" } });
        QCOMPARE(r.source, std::string("slurm"));
        QCOMPARE(r.worldSize, 8);
        QCOMPARE(r.rank, 5);
        QCOMPARE(r.localRank, 1);
        QCOMPARE(r.masterAddr, std::string("gpu07"));
        QCOMPARE(r.masterPort, 20000 + 123456 % 10000);
        // MASTER_ADDR / MASTER_PORT, when set, are used as they are.
        const tkd::Rendezvous m
            = parse({ { "SLURM_STEP_ID", "0" }, { "SLURM_NTASKS", "2" }, { "SLURM_PROCID", "1" },
                { "SLURM_NODELIST", "n1" }, { "MASTER_ADDR", "head" }, { "MASTER_PORT", "4000" } });
        QCOMPARE(m.masterAddr, std::string("head"));
        QCOMPARE(m.masterPort, 4000);
    }

    void slurmNodeLists_data()
    {
        QTest::addColumn<QString>("list");
        QTest::addColumn<QString>("first");
        QTest::newRow("one host") << "node7"
                                  << "node7";
        QTest::newRow("two hosts") << "a,b"
                                   << "a";
        QTest::newRow("range") << "node[01-04]"
                               << "node01";
        QTest::newRow("range and list") << "node[3,5-9]"
                                        << "node3";
        QTest::newRow("suffix") << "gpu[3-4]-ib,cpu1"
                                << "gpu3-ib";
        QTest::newRow("host first") << "login,node[1-2]"
                                    << "login";
    }
    void slurmNodeLists()
    {
        QFETCH(QString, list);
        QFETCH(QString, first);
        QCOMPARE(QString::fromStdString(
                     tkd::Rendezvous::firstSlurmHost(list.toStdString(), "SLURM_JOB_NODELIST")),
            first);
    }

    void badValuesNameTheirVariable_data()
    {
        QTest::addColumn<QString>("variable");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("value");
        QTest::newRow("WORLD_SIZE not a number") << "WORLD_SIZE"
                                                 << "WORLD_SIZE"
                                                 << "two";
        QTest::newRow("WORLD_SIZE zero") << "WORLD_SIZE"
                                         << "WORLD_SIZE"
                                         << "0";
        QTest::newRow("RANK outside the world") << "RANK"
                                                << "RANK"
                                                << "2";
        QTest::newRow("RANK negative") << "RANK"
                                       << "RANK"
                                       << "-1";
        QTest::newRow("MASTER_PORT too big") << "MASTER_PORT"
                                             << "MASTER_PORT"
                                             << "70000";
        QTest::newRow("MASTER_PORT trailing text") << "MASTER_PORT"
                                                   << "MASTER_PORT"
                                                   << "29500x";
        QTest::newRow("MASTER_ADDR missing") << "MASTER_ADDR"
                                             << "MASTER_ADDR"
                                             << "";
    }
    void badValuesNameTheirVariable()
    {
        QFETCH(QString, variable);
        QFETCH(QString, name);
        QFETCH(QString, value);
        Env env { { "WORLD_SIZE", "2" }, { "RANK", "1" }, { "MASTER_ADDR", "127.0.0.1" },
            { "MASTER_PORT", "29500" } };
        if (value.isEmpty())
            env.erase(name.toStdString());
        else
            env[name.toStdString()] = value.toStdString();
        QCOMPARE(QString::fromStdString(blamed(env)), variable);
    }

    void badSlurmValuesNameTheirVariable()
    {
        const Env base { { "SLURM_STEP_ID", "0" }, { "SLURM_NTASKS", "2" }, { "SLURM_PROCID", "1" },
            { "SLURM_JOB_NODELIST", "node[1-2]" } };
        Env e = base;
        e["SLURM_PROCID"] = "7";
        QCOMPARE(blamed(e), std::string("SLURM_PROCID"));
        e = base;
        e["SLURM_JOB_NODELIST"] = "node[1-2";
        QCOMPARE(blamed(e), std::string("SLURM_JOB_NODELIST"));
        e = base;
        e["SLURM_JOB_NODELIST"] = "node[x]";
        QCOMPARE(blamed(e), std::string("SLURM_JOB_NODELIST"));
        e = base;
        e.erase("SLURM_JOB_NODELIST");
        QCOMPARE(blamed(e), std::string("SLURM_JOB_NODELIST"));
        e = base;
        e["SLURM_NTASKS"] = "";
        QCOMPARE(blamed(e), std::string()); // not a job step with tasks: one process
    }
};

QTEST_GUILESS_MAIN(TestRendezvous)
#include "tst_rendezvous.moc"
