#pragma once

#include <QWidget>

class QPushButton;

namespace tkd {

// The empty state a newcomer meets: what the studio is for, and its three first moves
// (Quick-start, open a run, Live demo), plus the shipped example experiments.
class StartPage : public QWidget
{
    Q_OBJECT
public:
    explicit StartPage(QWidget *parent = nullptr);

    QPushButton *quickstartButton() const { return m_quickstart; }
    QPushButton *openRunButton() const { return m_openRun; }
    QPushButton *liveDemoButton() const { return m_liveDemo; }

Q_SIGNALS:
    void quickstartRequested();
    void openRunRequested();
    void liveDemoRequested();
    void openExampleRequested();

private:
    QPushButton *m_quickstart;
    QPushButton *m_openRun;
    QPushButton *m_liveDemo;
};

} // namespace tkd
