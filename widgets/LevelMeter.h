#pragma once

#include <QElapsedTimer>
#include <QWidget>

namespace tkd {

// A horizontal peak meter in dBFS (-60..0) with a decaying peak hold and a clip mark, for the
// live view's input.
class LevelMeter : public QWidget
{
    Q_OBJECT
public:
    explicit LevelMeter(QWidget *parent = nullptr);

    // Linear peak |sample| since the last call (0..1).
    void setPeak(float peak);
    void reset();
    double levelDb() const { return m_levelDb; }
    double holdDb() const { return m_holdDb; }
    bool clipped() const { return m_clipped; }

    QSize sizeHint() const override { return { 220, 22 }; }
    QSize minimumSizeHint() const override { return { 80, 16 }; }

    static constexpr double kFloorDb = -60.0;

protected:
    void paintEvent(QPaintEvent *) override;

private:
    double m_levelDb = kFloorDb;
    double m_holdDb = kFloorDb;
    bool m_clipped = false;
    QElapsedTimer m_holdAge;
};

} // namespace tkd
