#include "StartPage.h"

#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace tkd {

namespace {
// A big button with a line under it that says what happens.
QPushButton *addMove(QVBoxLayout *layout, const QIcon &icon, const QString &title,
    const QString &what, const QString &objectName)
{
    auto *button = new QPushButton(icon, title);
    button->setObjectName(objectName);
    QFont f = button->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.1);
    button->setFont(f);
    button->setMinimumHeight(34);
    auto *label = new QLabel(what);
    label->setWordWrap(true);
    label->setContentsMargins(6, 0, 0, 10);
    layout->addWidget(button);
    layout->addWidget(label);
    return button;
}
} // namespace

StartPage::StartPage(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    auto *title = new QLabel(tr("<h2>TKD Studio</h2><p>Train small keyword spotters that learn "
                                "<i>when</i> to listen from a transformer teacher's attention. "
                                "Everything here works offline on a built-in spoken-word "
                                "corpus.</p>"));
    title->setWordWrap(true);
    layout->addWidget(title);
    m_quickstart
        = addMove(layout, style()->standardIcon(QStyle::SP_MediaPlay), tr("1. Quick-start"),
            tr("Trains TC-ResNet8 with and without temporal distillation from the shipped teacher "
               "(a few minutes); follow it in Training, then see Results and Attention."),
            QStringLiteral("startQuickstart"));
    m_openRun = addMove(layout, style()->standardIcon(QStyle::SP_DirOpenIcon), tr("2. Open a run"),
        tr("A run folder written by the studio or by tkd train: its curves, results table, clips "
           "with predictions and attention maps."),
        QStringLiteral("startOpenRun"));
    m_liveDemo = addMove(layout, style()->standardIcon(QStyle::SP_MediaVolume), tr("3. Live demo"),
        tr("The newest trained student on a microphone or an audio file: posteriors, detections "
           "and attention as it listens."),
        QStringLiteral("startLiveDemo"));
    auto *example = new QPushButton(
        style()->standardIcon(QStyle::SP_FileDialogStart), tr("Open an example experiment..."));
    example->setObjectName(QStringLiteral("startOpenExample"));
    layout->addWidget(example);
    auto *hint = new QLabel(tr("Help > Documentation has the whole manual; Help > Keyboard "
                               "shortcuts lists the keys (Ctrl+1 ... Ctrl+8 switch views)."));
    hint->setWordWrap(true);
    layout->addSpacing(8);
    layout->addWidget(hint);
    layout->addStretch(1);

    connect(m_quickstart, &QPushButton::clicked, this, &StartPage::quickstartRequested);
    connect(m_openRun, &QPushButton::clicked, this, &StartPage::openRunRequested);
    connect(m_liveDemo, &QPushButton::clicked, this, &StartPage::liveDemoRequested);
    connect(example, &QPushButton::clicked, this, &StartPage::openExampleRequested);
}

} // namespace tkd
