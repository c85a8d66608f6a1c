// tkd-test-labels: gui e2e ml
// "Evaluate on a dataset..." in the studio: the Results view's button opens the dialog for the
// open run (a notice without one); the dialog scores a tiny trained run (LiveFixture) on a
// folder of Debian's real recordings in its worker thread and shows accuracy, recall and the
// confusion matrix; a missing folder is reported in the dialog, which keeps working.
#include "core/infer/LiveFixture.h"

#include "AttentionController.h"
#include "EvaluationDialog.h"
#include "widgets/ConfusionMatrixView.h"
#include "widgets/DatasetEvaluationView.h"
#include "widgets/ResultsView.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QToolButton>
#include <QtTest>

using namespace tkd;

class TestStudioEvaluation : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    test::LiveFixture m_fixture;
    QString m_folder;
    int m_clips = 0;

private Q_SLOTS:
    void initTestCase()
    {
        torch::set_num_threads(1);
        QVERIFY(m_dir.isValid());
        m_fixture.build(m_dir.path().toStdString());
        // left/ and right/ from Debian's recordings where installed, else corpus clips.
        m_folder = m_dir.filePath("data");
        for (const QString side : { "left", "right" }) {
            QVERIFY(QDir().mkpath(m_folder + "/" + side));
            for (const QString where : { "Front", "Rear", "Side" }) {
                const QString src = "/usr/share/sounds/alsa/" + where + "_" + side.left(1).toUpper()
                    + side.mid(1) + ".wav";
                if (QFile::exists(src)
                    && QFile::copy(src, m_folder + "/" + side + "/" + where + ".wav"))
                    ++m_clips;
            }
        }
        if (m_clips == 0)
            for (const ClipRef *c : m_fixture.index.clipsIn(Split::Test)) {
                const std::string label = m_fixture.index.classes[size_t(c->labels[0])];
                if ((label == "left" || label == "right")
                    && QFile::copy(QString::fromStdString(c->path),
                        m_folder + "/" + QString::fromStdString(label) + "/"
                            + QString::number(m_clips) + ".wav"))
                    ++m_clips;
            }
        QVERIFY(m_clips > 0);
    }

    void buttonNeedsARun()
    {
        AttentionController runs;
        QSignalSpy notice(&runs, &AttentionController::notice);
        runs.resultsView()->evaluateButton()->click();
        QCOMPARE(notice.count(), 1);
        QVERIFY(!runs.evaluationDialog());
    }

    void evaluatesAFolder()
    {
        EvaluationDialog dialog(QString::fromStdString(m_fixture.runDir));
        dialog.show();
        QCOMPARE(dialog.kindBox()->itemText(0), QStringLiteral("folder"));
        dialog.folderEdit()->setText(m_folder);
        QCOMPARE(dialog.dataSpec(), "folder:" + m_folder);
        dialog.noisyBox()->setChecked(true);
        QCOMPARE(dialog.dataSpec(), "noisy:folder:" + m_folder);
        dialog.noisyBox()->setChecked(false);

        QSignalSpy done(&dialog, &EvaluationDialog::evaluated);
        QSignalSpy failed(&dialog, &EvaluationDialog::failed);
        dialog.evaluateButton()->click();
        QVERIFY(!dialog.evaluateButton()->isEnabled()); // running
        QVERIFY2(done.wait(180000), qPrintable(dialog.statusLabel()->text()));
        QCOMPARE(failed.count(), 0);
        QVERIFY(dialog.evaluateButton()->isEnabled());
        const DatasetEvaluationView *view = dialog.view();
        QCOMPARE(view->modelBox()->count(), 2); // the student and the tiny teacher
        QCOMPARE(view->summary().clips, qint64(m_clips));
        QCOMPARE(view->matrix()->rowCount(), 2); // left, right
        qint64 total = 0;
        for (int r = 0; r < view->matrix()->rowCount(); ++r)
            for (int c = 0; c < view->matrix()->columnCount(); ++c)
                total += view->matrix()->count(r, c);
        QCOMPARE(total, qint64(m_clips));
        QCOMPARE(view->recallTable()->rowCount(), 2);
        QVERIFY(QFile::exists(view->summary().file));
    }

    // builtin with an experiment file scores that experiment's test clips; here the run's own
    // config.yaml, so the clips are the run's test split.
    void scoresAnExperimentsTestClips()
    {
        EvaluationDialog dialog(QString::fromStdString(m_fixture.runDir));
        dialog.show();
        dialog.kindBox()->setCurrentIndex(dialog.kindBox()->findData(QStringLiteral("builtin")));
        QCOMPARE(dialog.dataSpec(), QStringLiteral("builtin")); // empty: the run's own corpus
        const QString experiment = QString::fromStdString(m_fixture.runDir) + "/config.yaml";
        dialog.folderEdit()->setText(experiment);
        dialog.noisyBox()->setChecked(true);
        QCOMPARE(dialog.dataSpec(), "noisy:builtin:" + experiment);
        QVERIFY(dialog.noisyBox()->text().contains("that experiment"));

        QSignalSpy done(&dialog, &EvaluationDialog::evaluated);
        dialog.evaluateButton()->click();
        QVERIFY2(done.wait(180000), qPrintable(dialog.statusLabel()->text()));
        QCOMPARE(dialog.view()->summary().clips,
            qint64(m_fixture.index.clipsIn(tkd::Split::Test).size()));
    }

    void missingFolderIsReported()
    {
        EvaluationDialog dialog(QString::fromStdString(m_fixture.runDir));
        dialog.folderEdit()->setText(m_dir.filePath("nowhere"));
        QSignalSpy failed(&dialog, &EvaluationDialog::failed);
        dialog.evaluateButton()->click();
        QVERIFY(failed.wait(60000));
        QVERIFY2(dialog.statusLabel()->text().contains("nowhere: no such folder"),
            qPrintable(dialog.statusLabel()->text()));
        QVERIFY(dialog.evaluateButton()->isEnabled()); // it keeps working
    }
};

QTEST_MAIN(TestStudioEvaluation)
#include "tst_studio_evaluation.moc"
