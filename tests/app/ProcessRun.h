#pragma once
// Running a program (the built tkd, Slurm's tools) from a test and collecting what it printed.

#include <QMap>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace tkd::test {

struct ProcessResult
{
    int code = -1; // exit status; -1 when it did not start, crashed or timed out (err says which)
    QString out, err;
};

// Starts `program` on a prepared QProcess (environment, working folder, child set-up), waits up
// to timeoutMs, and kills it then.
inline ProcessResult runProcess(
    QProcess &p, const QString &program, const QStringList &args, int timeoutMs)
{
    p.start(program, args);
    if (!p.waitForStarted(10000))
        return { -1, {}, program + ": cannot start: " + p.errorString() };
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
        return { -1, QString::fromUtf8(p.readAllStandardOutput()),
            program + " " + args.join(' ') + ": timed out\n"
                + QString::fromUtf8(p.readAllStandardError()) };
    }
    return { p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
        QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError()) };
}

#ifdef TKD_CLI_PATH
// The built tkd as the CLI tests run it: the system environment with `env` on top (TKD_CACHE_DIR,
// TKD_THREADS, HOME for a test's .asoundrc, ...), started in `workDir` (empty: this process's).
inline ProcessResult runTkd(const QStringList &args, const QMap<QString, QString> &env,
    int timeoutMs, const QString &workDir = {})
{
    QProcess p;
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    for (auto it = env.begin(); it != env.end(); ++it)
        e.insert(it.key(), it.value());
    p.setProcessEnvironment(e);
    if (!workDir.isEmpty())
        p.setWorkingDirectory(workDir);
    return runProcess(p, TKD_CLI_PATH, args, timeoutMs);
}
#endif

} // namespace tkd::test
