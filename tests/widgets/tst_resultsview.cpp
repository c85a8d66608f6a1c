// The results grid offscreen: aggregation over seeds (mean, sample s.d.), the best marks, a click
// asking for the run and its attention, and CSV / Markdown / PNG export read back.
#include "widgets/ResultsView.h"

#include "widgets/QCustomPlotInclude.h"

#include <QFile>
#include <QImage>
#include <QLabel>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using tkd::ResultEntry;

namespace {
ResultEntry student(
    const QString &name, double lambda, double L, quint64 seed, double acc, double loc)
{
    ResultEntry e;
    e.model = name;
    e.lambda = lambda;
    e.lengthSec = L;
    e.seed = seed;
    e.status = QStringLiteral("completed");
    e.test[QStringLiteral("accuracy")] = acc;
    e.test[QStringLiteral("localisation_branch")] = loc;
    e.runDir = QStringLiteral("/runs/r%1").arg(L);
    e.cellName = QStringLiteral("%1-L%2-lambda%3-seed%4").arg(name).arg(L).arg(lambda).arg(seed);
    return e;
}

QVector<ResultEntry> entries()
{
    QVector<ResultEntry> v;
    ResultEntry t;
    t.model = QStringLiteral("teacher");
    t.teacherKind = QStringLiteral("tiny");
    t.lengthSec = 2;
    t.test[QStringLiteral("accuracy")] = 0.9;
    v << t;
    for (double L : { 2.0, 8.0 }) {
        v << student(QStringLiteral("tc-resnet8"), 0, L, 1, 0.70, NAN)
          << student(QStringLiteral("tc-resnet8"), 0, L, 2, 0.74, NAN);
        v << student(QStringLiteral("tc-resnet8"), 0.25, L, 1, 0.80, 0.6)
          << student(QStringLiteral("tc-resnet8"), 0.25, L, 2, 0.78, 0.7);
        v << student(QStringLiteral("att-rnn"), 0, L, 1, L > 4 ? 0.85 : 0.60, NAN);
    }
    return v;
}
} // namespace

class TestResultsView : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void aggregatesSeedsAndMarksBest()
    {
        tkd::ResultsView view;
        view.setEntries(entries(), QStringLiteral("grid"));
        QCOMPARE(view.columnCount(), 2);
        QCOMPARE(view.rowCount(), 4); // teacher, tc-resnet8 x {0, 0.25}, att-rnn x {0}
        QCOMPARE(view.rowName(0), QStringLiteral("teacher (tiny)"));
        QCOMPARE(view.rowName(2), QStringLiteral("tc-resnet8, λ = 0.25"));
        const tkd::ResultsGridCell *c = view.cell(1, 0);
        QVERIFY(c);
        QCOMPARE(c->seeds, 2);
        QVERIFY(std::abs(c->mean - 0.72) < 1e-12);
        QVERIFY(std::abs(c->spread - std::sqrt(0.0008)) < 1e-12); // sample s.d. of {0.70, 0.74}
        QVERIFY(view.cell(2, 0)->best); // L = 2: tc-resnet8 λ=0.25 (0.79) beats att-rnn (0.60)
        QVERIFY(view.cell(3, 1)->best); // L = 8: att-rnn (0.85)
        QVERIFY(!view.cell(0, 0)->best); // the teacher is a reference, not a contender
        QVERIFY(view.cell(2, 1)->bestLambda && !view.cell(1, 1)->bestLambda);
        QCOMPARE(view.table()->item(2, 0)->text(), QStringLiteral("79.0 ± 1.4  ★"));
        QCOMPARE(view.table()->item(0, 1)->text(), QStringLiteral("-"));
        // The chart: one bar series per student row with its means (in %), the teacher a line.
        QCOMPARE(view.chart()->plottableCount(), 3 * 2 + 1); // bars + their error bars, teacher
        auto *bars = qobject_cast<QCPBars *>(view.chart()->plottable(2));
        QVERIFY(bars);
        QCOMPARE(bars->name(), QStringLiteral("tc-resnet8, λ = 0.25"));
        QCOMPARE(bars->data()->size(), 2);
        QVERIFY(std::abs(bars->data()->at(0)->value - 79.0) < 1e-9);
        QCOMPARE(view.chart()->graphCount(), 1);
        view.setMetric(QStringLiteral("localisation_branch"));
        QCOMPARE(view.cell(1, 0)->seeds, 0); // vanilla students have no branch
        QCOMPARE(view.table()->item(2, 0)->text(), QStringLiteral("65.0 ± 7.1  ★"));
    }

    // Bold marks the lambda with the better validation figure, as `tkd grid` and the paper
    // choose it, even where its test figure is the lower one.
    void bestLambdaFollowsValidation()
    {
        QVector<ResultEntry> v = entries();
        for (ResultEntry &e : v)
            if (e.model == QLatin1String("tc-resnet8"))
                e.validation[QStringLiteral("accuracy")] = e.lambda > 0 ? 0.70 : 0.75;
        tkd::ResultsView view;
        view.setEntries(v);
        QVERIFY(view.cell(1, 1)->bestLambda && !view.cell(2, 1)->bestLambda);
        QVERIFY(std::abs(view.cell(1, 1)->validation - 0.75) < 1e-12);
        QVERIFY(view.cell(2, 0)->best); // the best student of a column is still chosen on test
    }

    // The paper panel: hidden until a comparison comes, then Table 2's figures and each claim
    // with its verdict.
    void paperPanelShowsTableAndClaims()
    {
        tkd::ResultsView view;
        view.setEntries(entries());
        view.resize(800, 900);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QVERIFY(!view.paperPanel()->isVisible());
        tkd::PaperComparison c;
        c.figures = { { QStringLiteral("teacher"), 8.0, 0.9095, 0.9095 },
            { QStringLiteral("att-rnn"), 8.0, 0.9098, 0.8881 } };
        c.claims = { { QStringLiteral("KD helps"), QStringLiteral("missed"),
            QStringLiteral("att-rnn -0.4") } };
        view.setPaperComparison(c);
        QVERIFY(view.paperPanel()->isVisible());
        const QString text = view.paperPanel()->text()->text();
        QVERIFY2(text.contains(QStringLiteral("91.0 (88.8)")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("missed")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("att-rnn -0.4")), qPrintable(text));
        view.setPaperComparison({});
        QVERIFY(!view.paperPanel()->isVisible());
    }

    void clickAsksForRunAndAttention()
    {
        tkd::ResultsView view;
        view.setEntries(entries());
        QSignalSpy run(&view, &tkd::ResultsView::runRequested);
        QSignalSpy attention(&view, &tkd::ResultsView::attentionRequested);
        view.resize(800, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const QRect r = view.table()->visualRect(view.table()->model()->index(2, 1));
        QTest::mouseClick(view.table()->viewport(), Qt::LeftButton, {}, r.center());
        QCOMPARE(run.count(), 1);
        QCOMPARE(run.first().at(0).toString(), QStringLiteral("/runs/r8"));
        QCOMPARE(run.first().at(1).toString(), QStringLiteral("tc-resnet8-L8-lambda0.25-seed1"));
        QCOMPARE(attention.count(), 1);
        QCOMPARE(attention.first().at(1).toString(), QStringLiteral("tc-resnet8"));
        QCOMPARE(attention.first().at(2).toDouble(), 0.25);
        QCOMPARE(attention.first().at(3).toDouble(), 8.0);
    }

    void chanceIsSaidPlainly()
    {
        // Issue 17: a run at chance said so only in the log.
        tkd::ResultsView view;
        view.resize(520, 600);
        view.show();
        QVector<ResultEntry> v = entries();
        for (ResultEntry &e : v)
            e.classes = 12;
        // The oracle teacher has no accuracy of its own (NaN): it is not at chance.
        ResultEntry oracle = student(QStringLiteral("teacher"), 0, 8.0, 0, NAN, NAN);
        oracle.teacherKind = QStringLiteral("oracle");
        oracle.classes = 12;
        v << oracle;
        view.setEntries(v, QStringLiteral("a long title for a run folder that goes on and on"));
        QVERIFY2(!view.chanceBanner()->isVisible(), qPrintable(view.chanceBanner()->text()));
        v << student(QStringLiteral("crnn"), 0, 8.0, 1, 0.083, NAN);
        v.last().classes = 12;
        view.setEntries(v, QStringLiteral("with crnn"));
        QVERIFY(view.chanceBanner()->isVisible());
        QVERIFY(view.chanceBanner()->text().contains("crnn"));
        QVERIFY(view.chanceBanner()->text().contains("8.3%"));
        // The title has its own line; Export keeps its whole width beside the metric box.
        QTRY_VERIFY(view.exportButton()->isVisible());
        QVERIFY(view.exportButton()->width() >= view.exportButton()->sizeHint().width());
        QVERIFY(view.exportButton()->geometry().right() < view.width());
        QVERIFY(view.headerLabel()->geometry().bottom() <= view.exportButton()->geometry().top());
    }

    void exportsCsvMarkdownPng()
    {
        QTemporaryDir dir;
        tkd::ResultsView view;
        view.setEntries(entries(), QStringLiteral("grid"));
        const QString csv = dir.filePath(QStringLiteral("r.csv")),
                      md = dir.filePath(QStringLiteral("r.md")),
                      png = dir.filePath(QStringLiteral("r.png"));
        QVERIFY(view.exportCsv(csv));
        QVERIFY(view.exportMarkdown(md));
        QVERIFY(view.exportPng(png));
        QFile c(csv);
        QVERIFY(c.open(QIODevice::ReadOnly));
        const QStringList lines
            = QString::fromUtf8(c.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.first(),
            QStringLiteral("model,lambda,length_sec,metric,mean,std,seeds,best,best_lambda"));
        QCOMPARE(
            lines.size(), 1 + 1 + 3 * 2); // teacher at L=2 only, three student rows x two lengths
        QVERIFY(lines.contains(QStringLiteral("tc-resnet8,0.25,2,accuracy,0.79,0.0141421,2,1,1")));
        QVERIFY(lines.contains(QStringLiteral("teacher:tiny,,2,accuracy,0.9,0,1,0,0")));
        QFile m(md);
        QVERIFY(m.open(QIODevice::ReadOnly));
        const QString mdText = QString::fromUtf8(m.readAll());
        QVERIFY(mdText.contains(QStringLiteral("| model | L = 2 s | L = 8 s |")));
        QVERIFY(mdText.contains(
            QStringLiteral("| tc-resnet8, λ = 0.25 | **79.0 ± 1.4** ★ | **79.0 ± 1.4** |")));
        QVERIFY(mdText.contains(QStringLiteral("| att-rnn, λ = 0 | **60.0** | **85.0** ★ |")));
        const QImage image(png);
        QVERIFY(!image.isNull());
        QVERIFY(image.width() >= 300);
        QVERIFY(image.height() >= 5 * 20); // caption, header and four rows
        // The best cells' green is in the picture.
        bool green = false;
        for (int y = 0; y < image.height() && !green; ++y)
            for (int x = 0; x < image.width() && !green; ++x)
                green = image.pixel(x, y) == QColor(200, 235, 200).rgb();
        QVERIFY(green);
    }
};

QTEST_MAIN(TestResultsView)
#include "tst_resultsview.moc"
