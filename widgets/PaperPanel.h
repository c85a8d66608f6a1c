#pragma once

#include <QMetaType>
#include <QString>
#include <QVector>
#include <QWidget>

class QLabel;

namespace tkd {

// The paper's Table 2 at the lengths a results table shows, and its claims judged on the shown
// runs (core/train/PaperTable.h), as plain values for the view.
struct PaperComparison
{
    struct Figure
    {
        QString model; // a student, or "teacher"
        double lengthSec = 0.0;
        double kd = 0.0; // fraction; the teacher's accuracy for the teacher
        double vanilla = 0.0; // fraction; unused for the teacher
    };
    struct Claim
    {
        QString statement;
        QString verdict; // met | missed | open
        QString evidence;
    };
    QVector<Figure> figures;
    QVector<Claim> claims;
    bool isEmpty() const { return claims.isEmpty(); }
};

// Under the results table: the paper's own figures for the shown students and lengths, then each
// of its claims with its verdict on these runs and the numbers that decided it. Hidden when the
// runs are not a keyword-accuracy grid.
class PaperPanel : public QWidget
{
    Q_OBJECT
public:
    explicit PaperPanel(QWidget *parent = nullptr);
    void setComparison(const PaperComparison &comparison);
    const PaperComparison &comparison() const { return m_comparison; }
    QLabel *text() const { return m_text; }

private:
    PaperComparison m_comparison;
    QLabel *m_text;
};

} // namespace tkd

Q_DECLARE_METATYPE(tkd::PaperComparison)
