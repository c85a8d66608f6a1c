#pragma once

#include "widgets/Spectrogram.h"

#include <QMetaType>
#include <QString>
#include <QVector>
#include <QWidget>

#include <limits>

class QCheckBox;
class QCustomPlot;
class QCPAxisRect;
class QCPColorMap;
class QCPItemStraightLine;
class QLabel;
class QToolButton;

namespace tkd {

// One attention curve over a clip: the teacher's rollout (or the oracle window), or a student's
// attention branch a_S or native attention. Plain values, computed off the GUI thread.
struct AttentionSeries
{
    QString model; // "teacher" or the student's name ("tc-resnet8")
    QString kind; // "rollout" | "oracle" | "branch" | "native"
    QString teacherKind; // teacher only: tiny | base | imported | oracle ...
    double lambda = -1.0; // students: the KD weight of the checkpoint
    quint64 seed = 0;
    QVector<double> timesSec; // frame centres
    QVector<double> weights; // a distribution over the frames (sums to 1)
    double score = std::numeric_limits<double>::quiet_NaN(); // share of mass in the keyword window
    QString prediction; // the model's class for the clip; empty when it has no head
    double confidence = -1.0; // softmax probability of the prediction
    QString label() const; // "tc-resnet8 λ=0.25 (branch)"
};

// Everything the attention view draws for one clip.
struct AttentionFigure
{
    QString title;
    QString trueLabel;
    double clipSec = 0.0;
    Spectrogram spectrogram; // log-mel
    double onsetSec = -1.0; // keyword window; < 0: none (silence)
    double offsetSec = -1.0;
    double baseline = std::numeric_limits<double>::quiet_NaN(); // uniform attention's score
    QVector<AttentionSeries> series; // teacher first
    // The teacher's attention of the rollout query row, per layer and head: row-major
    // [layers * heads][teacherFrames]; empty for the oracle.
    QVector<float> layerRows;
    int layers = 0;
    int heads = 0;
    QVector<double> teacherTimesSec;
    double computeSec = -1.0; // how long the clip and its models took (shown when >= 0)
};

// The paper's Fig. 2, interactive and scored: the clip's log-mel spectrogram, then the teacher's
// attention, the students' attention branches and the attention-based students' own attention,
// all on one time axis with the keyword's true window shaded and each curve's localisation score
// in its legend. Per-layer/head teacher attention as a heat map on demand; playback cursor;
// PNG/SVG export.
class AttentionView : public QWidget
{
    Q_OBJECT
public:
    explicit AttentionView(QWidget *parent = nullptr);

    void setFigure(const AttentionFigure &figure);
    void clear();
    const AttentionFigure &figure() const { return m_figure; }

    // Only series of this student (and the teacher) are shown; empty student: all. lambda < 0:
    // every lambda of the student.
    void focusStudent(const QString &student, double lambda = -1.0);
    void setSeriesVisible(int index, bool visible);
    bool isSeriesVisible(int index) const;
    // Curves scaled to a peak of 1 (the paper's "normalized attention weights") or raw weights.
    void setNormalised(bool on);
    void setLayerMapShown(bool on);
    bool layerMapShown() const;

    // Plotted curves (visible ones), one per shown series.
    int curveCount() const;
    QStringList curveNames() const;
    QCustomPlot *plot() const { return m_plot; }
    QCustomPlot *layerPlot() const { return m_layerPlot; }
    QString scoreText() const;
    QToolButton *exportButton() const { return m_export; }

    bool exportPng(const QString &path, int width = 0, int height = 0);
    bool exportSvg(const QString &path, int width = 0, int height = 0);

public Q_SLOTS:
    // Playback position in seconds; < 0 hides the cursor.
    void setCursorSec(double sec);

Q_SIGNALS:
    void figureShown();

private:
    void rebuild();
    void rebuildSeriesMenu();
    QCPAxisRect *addSpectrogramPanel();
    QVector<QCPAxisRect *> addCurvePanels();
    QStringList scoreLines() const;
    void linkPanels(const QVector<QCPAxisRect *> &rects, QCPAxisRect *spec, bool hasWindow);
    void rebuildLayerMap(bool hasWindow);
    void chooseExport();
    QCPAxisRect *addPanel(const QString &title, bool bottomAxis);

    AttentionFigure m_figure;
    QVector<bool> m_visible;
    QString m_focusNote; // why a focused checkpoint shows no curve of its own
    bool m_normalised = true;
    double m_cursorSec = -1.0;
    QCustomPlot *m_plot;
    QCustomPlot *m_layerPlot;
    QLabel *m_header;
    QLabel *m_scores;
    QToolButton *m_seriesButton;
    QCheckBox *m_normalise;
    QToolButton *m_layers;
    QToolButton *m_export;
    QVector<QCPItemStraightLine *> m_cursors;
};

} // namespace tkd

Q_DECLARE_METATYPE(tkd::AttentionFigure)
