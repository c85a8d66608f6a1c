#pragma once

#include <QStringList>
#include <QVector>
#include <QWidget>

namespace tkd {

// One horizontal bar per class with its posterior, the class's threshold as a tick, the top
// class highlighted; unknown and silence ("_"-prefixed: never detected) drawn grey.
class LivePosteriorBars : public QWidget
{
    Q_OBJECT
public:
    explicit LivePosteriorBars(QWidget *parent = nullptr);

    void setClasses(const QStringList &classes);
    void setThresholds(const QVector<double> &thresholds); // per class
    void setPosteriors(const QVector<float> &posteriors); // empty: cleared
    const QVector<float> &posteriors() const { return m_posteriors; }
    int topClass() const;

    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent *) override;

private:
    QStringList m_classes;
    QVector<double> m_thresholds;
    QVector<float> m_posteriors;
};

} // namespace tkd
