// tkd-test-labels: gui ml e2e
// The studio's run views on a real run trained here (a tiny built-in corpus of 1 s clips, a tiny
// teacher, TC-ResNet8 and Att-RNN at lambda 0 and 0.25, one epoch each): RunInspector rebuilds the
// exact clips and models (its per-clip scores and predictions reproduce metrics.json), and the
// real main window shows the run's clips with predictions, the attention of the selected clip,
// and the results grid with its exports.
#include "AttentionController.h"
#include "AttentionWorker.h"
#include "MainWindow.h"
#include "RunInspector.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/train/Pipeline.h"
#include "core/util/Progress.h"
#include "widgets/AttentionView.h"
#include "widgets/ClipBrowser.h"
#include "widgets/ResultsView.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

class TestStudioAttention : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_home;
    QString m_runDir;
    tkd::PipelineResult m_result;

    const tkd::CellResult &cell(const std::string &student, double lambda) const
    {
        for (const auto &c : m_result.lengths.at(0).cells)
            if (c.student == student && c.lambda == lambda)
                return c;
        throw std::runtime_error("no such cell");
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_home.isValid());
        qputenv("HOME", m_home.path().toUtf8());
        qputenv("TKD_CACHE_DIR", m_home.filePath("cache").toUtf8());
        tkd::ExperimentConfig c;
        c.name = "studio-attention";
        c.data.source = "builtin";
        c.data.corpus.speakers = 6;
        c.data.noisy.lengthSec = 1.0;
        c.teacher.kind = tkd::TeacherKind::Tiny;
        c.teacher.epochs = 1;
        c.teacher.batchSize = 8;
        c.students = { "tc-resnet8", "att-rnn" };
        c.kd.lambdas = { 0.0, 0.25 };
        c.grid.lengthsSec = { 1.0 };
        c.grid.seeds = { 1 };
        c.train.epochs = 1;
        c.train.batchSize = 8;
        c.train.warmupEpochs = 0;
        c.train.numThreads = 1;
        c.output.runsDir = m_home.filePath("runs").toStdString();
        tkd::Pipeline pipeline(c);
        m_result = pipeline.run();
        m_runDir = QString::fromStdString(m_result.runDir);
        QCOMPARE(m_result.lengths.size(), size_t(1));
        QCOMPARE(m_result.lengths[0].cells.size(), size_t(4));
    }

    // The inspector rebuilds the very clips and models of the run: averaged over the test split,
    // its per-clip localisation scores and predictions give back what metrics.json says.
    void inspectorReproducesTheRunsMetrics()
    {
        tkd::RunInspector run(m_runDir.toStdString());
        QCOMPARE(run.lengths(), std::vector<double> { 1.0 });
        QString note;
        const QVector<tkd::ClipRow> rows = run.clips(1.0, {}, &note);
        const auto &l = m_result.lengths[0];
        QCOMPARE(rows.size(), int(l.trainClips + l.validationClips + l.testClips));
        QVERIFY(note.startsWith(QStringLiteral("predictions: ")));
        for (const auto &r : rows) {
            if (r.split == QLatin1String("train")) { // held-out clips only
                QVERIFY(r.prediction.isEmpty());
                QCOMPARE(r.studentConfidence, -1.0);
            } else {
                QVERIFY(!r.prediction.isEmpty());
                QVERIFY(r.studentConfidence > 0.0 && r.studentConfidence <= 1.0);
                QVERIFY(r.teacherConfidence > 0.0
                    && r.teacherConfidence <= 1.0); // tiny teacher: log-mel
            }
            QVERIFY(r.runItem >= 0);
            QCOMPARE(r.runLengthSec, 1.0);
        }

        std::map<std::string, double>
            sum; // model/kind -> summed score over test clips with a keyword
        std::map<std::string, int> hits; // student -> correct predictions
        int scored = 0, testClips = 0;
        for (const auto &r : rows) {
            if (r.split != QLatin1String("test"))
                continue;
            ++testClips;
            tkd::ClipAudio audio;
            tkd::AttentionFigure f;
            run.analyse(1.0, 2, r.runItem, &audio, &f);
            QCOMPARE(audio.samples.size(), 16000);
            QCOMPARE(f.trueLabel, r.label);
            QCOMPARE(f.onsetSec >= 0, r.onsetSec >= 0);
            // teacher + tc-resnet8 (lambda 0: no attention; 0.25: branch) + att-rnn (0: native;
            // 0.25: branch and native)
            QCOMPARE(f.series.size(), 6);
            QCOMPARE(f.series[0].model, QStringLiteral("teacher"));
            QCOMPARE(f.series[0].kind, QStringLiteral("rollout"));
            QVERIFY(f.layers > 0 && f.heads > 0);
            QCOMPARE(f.layerRows.size(), f.layers * f.heads * f.teacherTimesSec.size());
            for (const auto &s : f.series) {
                if (s.kind == QLatin1String("none")) {
                    hits[(s.model + QString::number(s.lambda)).toStdString()]
                        += s.prediction == r.label;
                    continue;
                }
                double total = 0;
                for (double w : s.weights)
                    total += w;
                QVERIFY2(std::abs(total - 1.0) < 1e-4, qPrintable(s.label()));
                QCOMPARE(s.timesSec.size(), s.weights.size());
                QVERIFY(s.timesSec.first() >= 0 && s.timesSec.last() <= 1.0);
                if (s.model != QLatin1String("teacher")) {
                    hits[(s.model + QString::number(s.lambda)).toStdString()]
                        += s.prediction == r.label;
                    if (r.onsetSec >= 0)
                        sum[(s.model + QString::number(s.lambda) + s.kind).toStdString()]
                            += s.score;
                }
            }
            scored += r.onsetSec >= 0;
        }
        QVERIFY(scored > 0);
        auto near = [](double a, double b) { return std::abs(a - b) < 1e-4; };
        const auto &tcKd = cell("tc-resnet8", 0.25), &attKd = cell("att-rnn", 0.25),
                   &att = cell("att-rnn", 0.0);
        QVERIFY(near(sum["tc-resnet80.25branch"] / scored, tcKd.test.at("localisation_branch")));
        QVERIFY(near(sum["att-rnn0.25branch"] / scored, attKd.test.at("localisation_branch")));
        QVERIFY(near(sum["att-rnn0.25native"] / scored, attKd.test.at("localisation_native")));
        QVERIFY(near(sum["att-rnn0native"] / scored, att.test.at("localisation_native")));
        // The table's predictions are the best student's: its test accuracy again.
        {
            const tkd::CellResult *best = nullptr;
            for (const auto &c : m_result.lengths[0].cells)
                if (!best || c.test.at("accuracy") > best->test.at("accuracy"))
                    best = &c;
            int right = 0;
            for (const auto &r : rows)
                right += r.split == QLatin1String("test") && r.prediction == r.label;
            QVERIFY(near(double(right) / testClips, best->test.at("accuracy")));
        }
        // Each series' prediction is the student's: its test accuracy again.
        QVERIFY(near(
            double(hits["att-rnn0.25"]) / 2.0 / testClips, attKd.test.at("accuracy"))); // 2 series
        QVERIFY(near(
            double(hits["tc-resnet80"]) / testClips, cell("tc-resnet8", 0.0).test.at("accuracy")));
    }

    void windowShowsRunClipsAttentionAndResults()
    {
        tkd::MainWindow window;
        window.resize(1400, 900);
        window.show();
        QSignalSpy runShown(&window, &tkd::MainWindow::runShown);
        QSignalSpy clipShown(&window, &tkd::MainWindow::clipShown);
        tkd::AttentionController *runs = window.runViews();
        QSignalSpy attention(runs, &tkd::AttentionController::attentionShown);
        QSignalSpy results(runs, &tkd::AttentionController::resultsShown);
        QSignalSpy errors(&window, &tkd::MainWindow::errorShown);
        window.openRun(m_runDir);
        QVERIFY(runShown.wait(120000));
        QCOMPARE(errors.count(), 0);
        QCOMPARE(results.count(), 1);
        const auto &l = m_result.lengths[0];
        QCOMPARE(
            runShown.first().first().toInt(), int(l.trainClips + l.validationClips + l.testClips));

        // Clips view: model columns filled, "only misclassified" filters by correctness.
        tkd::ClipBrowser *browser = window.clipBrowser();
        // The run opens on its test split, first clip selected.
        QCOMPARE(browser->splitBox()->currentData().toString(), QStringLiteral("test"));
        QCOMPARE(browser->filter()->rowCount(), int(l.testClips));
        const auto *first = browser->model()->clipAt(
            browser->filter()->mapToSource(browser->filter()->index(0, 0)).row());
        QVERIFY(first && first->split == QLatin1String("test"));
        int testRow = -1;
        for (int i = 0; i < browser->model()->rowCount() && testRow < 0; ++i)
            if (browser->model()->clipAt(i)->split == QLatin1String("test"))
                testRow = i;
        QVERIFY(testRow >= 0 && !browser->model()->clipAt(testRow)->prediction.isEmpty());
        QVERIFY(!browser->table()->isColumnHidden(tkd::ClipTableModel::Prediction));
        const QModelIndex correct = browser->model()->index(testRow, tkd::ClipTableModel::Correct);
        QVERIFY(QStringList({ "yes", "no" }).contains(correct.data().toString()));
        int wrong = 0;
        for (const auto &r : browser->model()->clips())
            wrong += r.split == QLatin1String("test") && r.prediction != r.label;
        browser->findChild<QCheckBox *>()->setChecked(true);
        QCOMPARE(browser->filter()->rowCount(), wrong);
        browser->findChild<QCheckBox *>()->setChecked(false);

        // The first clip is selected: its waveform (with the keyword window) and attention arrive.
        QVERIFY(attention.count() > 0 || attention.wait(60000));
        QVERIFY(clipShown.count() > 0 || clipShown.wait(30000));
        QVERIFY(window.waveformView()->waveformPointCount() > 0);
        QCOMPARE(window.waveformView()->windowShown(), first->onsetSec >= 0);
        tkd::AttentionView *view = runs->attentionView();
        QCOMPARE(view->figure().series.size(), 6);
        QCOMPARE(
            view->curveCount(), 5); // teacher, tc-resnet8 branch, att-rnn native, branch, native
        QVERIFY(view->curveNames().first().startsWith(QStringLiteral("teacher tiny (rollout)")));

        // Another clip: a new figure for it.
        // (A figure for an earlier selection may still be on its way: wait for this clip's.)
        QVERIFY(browser->selectVisibleRow(3));
        const QString path
            = browser->model()
                  ->clipAt(browser->filter()->mapToSource(browser->filter()->index(3, 0)).row())
                  ->path;
        QTRY_COMPARE_WITH_TIMEOUT(
            view->figure().title.section(QLatin1Char(' '), 0, 1), path, 60000);

        // Playback position reaches the attention view's cursor.
        Q_EMIT window.playbackPosition(0.4);
        QTest::qWait(50);

        // Results grid: teacher + 2 students x 2 lambdas, one length; a click focuses the
        // attention.
        tkd::ResultsView *grid = runs->resultsView();
        QCOMPARE(grid->rowCount(), 5);
        QCOMPARE(grid->columnCount(), 1);
        int row = -1;
        for (int r = 0; r < grid->rowCount(); ++r)
            if (grid->rowName(r) == QStringLiteral("att-rnn, λ = 0.25"))
                row = r;
        QVERIFY(row > 0);
        QVERIFY(
            std::abs(grid->cell(row, 0)->mean - cell("att-rnn", 0.25).test.at("accuracy")) < 1e-12);
        QSignalSpy runRequested(runs, &tkd::AttentionController::runRequested);
        grid->activateCell(row, 0);
        QCOMPARE(runRequested.count(), 1);
        QCOMPARE(
            runRequested.first().at(1).toString(), QStringLiteral("att-rnn-L1-lambda0.25-seed1"));
        QCOMPARE(view->curveCount(), 3); // teacher + att-rnn lambda 0.25 branch and native

        // Exports, read back.
        const QString csv = m_home.filePath("grid.csv"), md = m_home.filePath("grid.md"),
                      png = m_home.filePath("grid.png");
        QVERIFY(grid->exportCsv(csv) && grid->exportMarkdown(md) && grid->exportPng(png));
        QFile c(csv);
        QVERIFY(c.open(QIODevice::ReadOnly));
        const QStringList lines
            = QString::fromUtf8(c.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 6);
        QVERIFY(lines[1].startsWith(QStringLiteral("teacher:tiny,,1,accuracy,")));
        const double acc = cell("tc-resnet8", 0.25).test.at("accuracy");
        QVERIFY(lines.join(QLatin1Char('\n'))
                    .contains(
                        QStringLiteral("tc-resnet8,0.25,1,accuracy,%1,0,1,").arg(acc, 0, 'g', 6)));
        QFile m(md);
        QVERIFY(m.open(QIODevice::ReadOnly));
        const QString mdText = QString::fromUtf8(m.readAll());
        QVERIFY(mdText.contains(QStringLiteral("| model | L = 1 s |")));
        QVERIFY(mdText.contains(QStringLiteral("| att-rnn, λ = 0.25 |")));
        QVERIFY(!QImage(png).isNull());

        const QString apng = m_home.filePath("attention.png"),
                      asvg = m_home.filePath("attention.svg");
        QVERIFY(view->exportPng(apng));
        QVERIFY(view->exportSvg(asvg));
        QVERIFY(QImage(apng).width() >= 1000);
        QVERIFY(QFileInfo(asvg).size() > 10000);
        QCOMPARE(errors.count(), 0);
    }

    // A `tkd grid` table folder (grid.json naming its run folders) opens like the runs themselves,
    // the shared teacher listed once.
    void gridFolderOpens()
    {
        const QString grid = m_home.filePath("grid");
        QVERIFY(QDir().mkpath(grid));
        QFile g(grid + "/grid.json");
        QVERIFY(g.open(QIODevice::WriteOnly));
        g.write(QStringLiteral("{\"run_dirs\": [\"%1\", \"%1\"]}").arg(m_runDir).toUtf8());
        g.close();
        QString title;
        const QVector<tkd::ResultEntry> entries = tkd::RunInspector::resultEntries(grid, &title);
        QCOMPARE(entries.size(), 1 + 4);
        QCOMPARE(entries.first().model, QStringLiteral("teacher"));
        tkd::ResultsView view;
        view.setEntries(entries, title);
        QCOMPARE(view.rowCount(), 5);
        QCOMPARE(view.cell(0, 0)->seeds, 1);

        // The paper's claims judged on these runs (core's PaperTable), shown under the table.
        const tkd::PaperComparison paper = tkd::RunInspector::paperComparison(grid);
        QCOMPARE(paper.claims.size(), 4);
        for (const auto &c : paper.claims)
            QVERIFY2(QStringList({ "met", "missed", "open" }).contains(c.verdict),
                qPrintable(c.verdict));
        QVERIFY(paper.figures.isEmpty()); // the paper has no L = 1 s column
        view.setPaperComparison(paper);
        QVERIFY(view.paperPanel()->text()->text().contains(paper.claims[1].statement));
    }

    // A folder of a run's results without its checkpoints (docs/paper-table/runs/ keeps such
    // copies): choosing one of its cells says so, instead of failing on a missing file.
    void resultsWithoutCheckpointsAreExplained()
    {
        const QString copy = m_home.filePath("results-only");
        QVERIFY(QDir().mkpath(copy));
        for (const char *f : { "metrics.json", "config.yaml", "provenance.json" })
            QFile::copy(m_runDir + "/" + f, copy + "/" + f);
        QVERIFY(tkd::RunInspector::isRunFolder(copy));
        QVERIFY(!tkd::RunInspector::keepsCheckpoints(copy));
        QVERIFY(tkd::RunInspector::keepsCheckpoints(m_runDir));
        tkd::AttentionController controller;
        QSignalSpy notices(&controller, &tkd::AttentionController::notice);
        QSignalSpy opened(&controller, &tkd::AttentionController::runOpened);
        const QVector<tkd::ResultEntry> entries = tkd::RunInspector::resultEntries(copy);
        QVERIFY(entries.size() > 1);
        const tkd::ResultEntry &cell = entries.last();
        Q_EMIT controller.resultsView()->attentionRequested(
            copy, cell.model, cell.lambda, cell.lengthSec, cell.seed);
        QCOMPARE(notices.size(), 1);
        QVERIFY2(notices.first().first().toString().contains(QStringLiteral("has no checkpoints")),
            qPrintable(notices.first().first().toString()));
        QVERIFY(!opened.wait(500)); // nothing was opened

        // Opening the folder shows its table and says why there is nothing more, without an error.
        tkd::AttentionWorker worker;
        QSignalSpy said(&worker, &tkd::AttentionWorker::notice);
        QSignalSpy failed(&worker, &tkd::AttentionWorker::failed);
        QSignalSpy results(&worker, &tkd::AttentionWorker::resultsLoaded);
        worker.openRun(copy, 0.0);
        QCOMPARE(results.size(), 1);
        QVERIFY2(failed.isEmpty(),
            failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
        QCOMPARE(said.size(), 1);
        QVERIFY(said.first().first().toString().contains(QStringLiteral("no checkpoints here")));
    }

    void badRunFolderIsExplained()
    {
        tkd::MainWindow window;
        QSignalSpy errors(&window, &tkd::MainWindow::errorShown);
        window.openRun(m_home.filePath("cache"));
        QVERIFY(errors.wait(30000));
        QVERIFY(errors.first().first().toString().contains(QStringLiteral("neither a run folder")));
    }
};

QTEST_MAIN(TestStudioAttention)
#include "tst_studio_attention.moc"
