// The confusion matrix heat map and the evaluation view offscreen: rows without clips and
// columns never predicted are left out, each cell shows its count and its share of the row
// (rows sum to 100 %), colour follows the share, the view lists per-class recall and switches
// models, and the PNG export is read back.
#include "widgets/ConfusionMatrixView.h"
#include "widgets/DatasetEvaluationView.h"

#include <QComboBox>
#include <QImage>
#include <QLabel>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace tkd;

namespace {

const QStringList kClasses = { "yes", "no", "left", "right", "_unknown_" };

// Rows: yes (4 clips), no (0 clips), left (2), right (0), _unknown_ (3); nothing predicted as
// "right".
QVector<QVector<qint64>> counts()
{
    return { { 3, 1, 0, 0, 0 }, { 0, 0, 0, 0, 0 }, { 0, 0, 2, 0, 0 }, { 0, 0, 0, 0, 0 },
        { 1, 0, 1, 0, 1 } };
}

EvaluationModelScores model(const QString &name, const QVector<QVector<qint64>> &confusion)
{
    EvaluationModelScores m;
    m.name = name;
    m.kind = QStringLiteral("student");
    m.lengthSec = 1.0;
    m.confusion = confusion;
    for (int i = 0; i < confusion.size(); ++i)
        for (int j = 0; j < confusion.size(); ++j) {
            m.clips += confusion[i][j];
            m.correct += i == j ? confusion[i][j] : 0;
        }
    return m;
}

} // namespace

class TestConfusionMatrix : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rowsColumnsAndShares()
    {
        ConfusionMatrixView v;
        v.resize(500, 400);
        v.setMatrix(kClasses, counts(), QStringLiteral("a model"));
        QCOMPARE(v.rowCount(), 3); // yes, left, _unknown_
        QCOMPARE(v.rowClass(0), QStringLiteral("yes"));
        QCOMPARE(v.rowClass(2), QStringLiteral("_unknown_"));
        QCOMPARE(v.columnCount(), 4); // yes, no (predicted), left, _unknown_; never "right"
        QCOMPARE(v.columnClass(1), QStringLiteral("no"));
        for (int r = 0; r < v.rowCount(); ++r) {
            double sum = 0.0;
            for (int c = 0; c < v.columnCount(); ++c)
                sum += v.rowShare(r, c);
            QVERIFY(qAbs(sum - 1.0) < 1e-12);
        }
        QCOMPARE(v.count(0, 0), qint64(3));
        QCOMPARE(v.rowShare(0, 0), 0.75);
        QCOMPARE(v.cellText(0, 0), QStringLiteral("3\n75%"));
        QCOMPARE(v.cellText(0, 1), QStringLiteral("1\n25%"));
        QCOMPARE(v.cellText(2, 3), QStringLiteral("1\n33%"));
        QCOMPARE(v.cellText(1, 2), QStringLiteral("2\n100%"));
        // More share, darker cell; an empty cell is white.
        QVERIFY(v.cellColour(0, 0).lightness() < v.cellColour(0, 1).lightness());
        QCOMPARE(v.cellColour(0, 2), QColor(Qt::white));
        // Cells are laid out as a grid inside the widget, and painting them works.
        QVERIFY(v.cellRect(0, 0).right() < v.cellRect(0, 1).left());
        QVERIFY(v.cellRect(0, 0).bottom() < v.cellRect(1, 0).top());
        QVERIFY(v.rect().contains(v.cellRect(2, 3)));
        const QImage shot = v.grab().toImage();
        const QPoint centre = v.cellRect(1, 2).center(); // left -> left: 100 %, deep green
        QVERIFY(shot.pixelColor(centre.x() - v.cellRect(1, 2).width() / 3, centre.y()).lightness()
            < 160);
    }

    void malformedShowsNothing()
    {
        ConfusionMatrixView v;
        v.setMatrix(kClasses, { { 1, 2 } });
        QCOMPARE(v.rowCount(), 0);
        QCOMPARE(v.count(0, 0), qint64(0));
        QVERIFY(!v.grab().isNull());
    }

    void exportsPng()
    {
        QTemporaryDir dir;
        ConfusionMatrixView v;
        v.setMatrix(kClasses, counts(), QStringLiteral("a model"));
        const QString path = dir.filePath("m.png");
        QVERIFY(v.exportPng(path));
        const QImage image(path);
        QVERIFY(!image.isNull());
        QVERIFY(image.width() >= v.sizeHint().width());
    }

    void evaluationViewSwitchesModels()
    {
        DatasetEvaluationSummary s;
        s.data = QStringLiteral("folder:/data/alsa");
        s.datasetName = QStringLiteral("alsa");
        s.split = QStringLiteral("all");
        s.placement = QStringLiteral("centred");
        s.classes = kClasses;
        s.mapping = { QStringLiteral("center -> _unknown_ (3)") };
        s.clips = 9;
        s.models << model(QStringLiteral("student-a"), counts());
        QVector<QVector<qint64>> perfect(5, QVector<qint64>(5, 0));
        perfect[0][0] = 4;
        perfect[2][2] = 2;
        perfect[4][4] = 3;
        s.models << model(QStringLiteral("teacher-L1"), perfect);
        DatasetEvaluationView view;
        view.resize(900, 600);
        view.setSummary(s);
        QCOMPARE(view.modelBox()->count(), 2);
        QVERIFY(view.modelBox()->itemText(0).contains(QStringLiteral("66.7%")));
        QVERIFY(view.accuracyLabel()->text().contains(QStringLiteral("6/9")));
        QVERIFY(view.headerLabel()->text().contains(QStringLiteral("center -> _unknown_")));
        QCOMPARE(view.recallTable()->rowCount(), 3);
        QCOMPARE(view.recallTable()->item(0, 0)->text(), QStringLiteral("yes"));
        QCOMPARE(view.recallTable()->item(0, 2)->text(), QStringLiteral("75.0%"));
        QCOMPARE(view.matrix()->columnCount(), 4);
        view.modelBox()->setCurrentIndex(1);
        QVERIFY(view.accuracyLabel()->text().contains(QStringLiteral("100.0%")));
        QCOMPARE(view.matrix()->columnCount(), 3); // nothing mistaken for "no" any more
        QCOMPARE(view.matrix()->cellText(0, 0), QStringLiteral("4\n100%"));
        QVERIFY(!view.grab().isNull());
    }
};

QTEST_MAIN(TestConfusionMatrix)
#include "tst_confusionmatrix.moc"
