#include "widgets/LivePanel.h"

#include "widgets/LevelMeter.h"
#include "widgets/LivePosteriorBars.h"
#include "widgets/RollingSpectrogram.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace tkd {

namespace {
constexpr int kFileEntry = -2; // item data of the "audio file" entry in the input picker

QDoubleSpinBox *spin(double min, double max, double step, double value, int decimals,
    const QString &suffix, const QString &tip)
{
    auto *s = new QDoubleSpinBox;
    s->setRange(min, max);
    s->setSingleStep(step);
    s->setDecimals(decimals);
    s->setValue(value);
    s->setSuffix(suffix);
    s->setToolTip(tip);
    s->setKeyboardTracking(false);
    return s;
}
} // namespace

LivePanel::LivePanel(QWidget *parent)
    : QWidget(parent)
    , m_input(new QComboBox)
    , m_refresh(new QToolButton)
    , m_start(new QPushButton(tr("Listen")))
    , m_cell(new QComboBox)
    , m_openRun(new QToolButton)
    , m_modelInfo(new QLabel(tr("No model: open a run folder written by Train (or tkd train).")))
    , m_level(new LevelMeter)
    , m_status(new QLabel(tr("Not listening")))
    , m_message(new QLabel)
    , m_spectrogram(new RollingSpectrogram)
    , m_bars(new LivePosteriorBars)
    , m_top(new QLabel(QStringLiteral("-")))
    , m_timing(new QLabel)
    , m_detections(new QTableWidget(0, 4))
    , m_threshold(spin(0.05, 1.0, 0.05, 0.6, 2, {}, tr("Smoothed posterior a keyword must reach")))
    , m_minDuration(
          spin(0.0, 2.0, 0.1, 0.2, 2, tr(" s"), tr("How long it must stay above the threshold")))
    , m_refractory(spin(
          0.0, 10.0, 0.1, 1.0, 1, tr(" s"), tr("No detection this soon after the previous one")))
    , m_smoothing(new QComboBox)
    , m_smoothingSec(
          spin(0.0, 2.0, 0.05, 0.2, 2, tr(" s"), tr("EMA time constant or moving-average length")))
    , m_teacher(new QCheckBox(tr("Teacher attention")))
    , m_teacherInterval(spin(0.0, 10.0, 0.1, 0.0, 1, tr(" s"),
          tr("Run the teacher at most once per this many seconds (0: every hop it can keep up "
             "with)")))
    , m_classThresholds(new QTableWidget(0, 2))
    , m_recordFolder(new QLineEdit)
    , m_recordBrowse(new QToolButton)
    , m_recordLabel(new QComboBox)
    , m_recordSeconds(
          spin(0.5, 10.0, 0.5, 2.0, 1, tr(" s"), tr("How much of the most recent audio to save")))
    , m_record(new QPushButton(tr("Record last")))
{
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(m_spectrogram);
    split->addWidget(buildBottom());
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buildSourceRow());
    layout->addWidget(split, 1);

    m_spectrogram->configure(40, 0.02, 6.0);
    m_spectrogram->setPlaceholder(tr("Choose an input and a student, then Listen."));
    connectControls();
    setDevices({}, -1, tr("Looking for capture devices..."));
}

// Source and model: input, student, level; the model and status text beside them.
QLayout *LivePanel::buildSourceRow()
{
    m_input->setMinimumContentsLength(18);
    m_input->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_input->setToolTip(tr("Capture device, or an audio file streamed through the same path"));
    m_refresh->setIcon(style()->standardIcon(QStyle::SP_BrowserReload));
    m_refresh->setToolTip(tr("List the capture devices again"));
    m_start->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_start->setEnabled(false);
    m_cell->setMinimumContentsLength(24);
    m_cell->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_cell->setToolTip(tr("Student checkpoint of the run"));
    m_openRun->setIcon(style()->standardIcon(QStyle::SP_DirOpenIcon));
    m_openRun->setToolTip(tr("Open a run folder"));
    m_modelInfo->setWordWrap(true);
    m_message->setWordWrap(true);
    m_message->setVisible(false);

    auto *source = new QGridLayout;
    source->addWidget(new QLabel(tr("Input")), 0, 0);
    source->addWidget(m_input, 0, 1);
    source->addWidget(m_refresh, 0, 2);
    source->addWidget(m_start, 0, 3);
    source->addWidget(new QLabel(tr("Student")), 1, 0);
    source->addWidget(m_cell, 1, 1);
    source->addWidget(m_openRun, 1, 2);
    source->addWidget(new QLabel(tr("Level")), 2, 0);
    source->addWidget(m_level, 2, 1, 1, 3);
    source->setColumnStretch(1, 1);
    auto *statusBox = new QVBoxLayout;
    statusBox->addWidget(m_modelInfo);
    statusBox->addWidget(m_status);
    statusBox->addWidget(m_message);
    auto *topRow = new QHBoxLayout;
    topRow->addLayout(source, 3);
    topRow->addLayout(statusBox, 2);

    return topRow;
}

// Posteriors, detection log, detection settings and recording, side by side.
QWidget *LivePanel::buildBottom()
{
    // Posteriors and the top class.
    QFont big = m_top->font();
    big.setPointSizeF(big.pointSizeF() * 1.6);
    big.setBold(true);
    m_top->setFont(big);
    m_top->setToolTip(tr("Top class of the smoothed posteriors, with its confidence"));
    auto *posteriorBox = new QGroupBox(tr("Posteriors (smoothed)"));
    auto *pl = new QVBoxLayout(posteriorBox);
    pl->addWidget(m_top);
    pl->addWidget(m_bars, 1);
    pl->addWidget(m_timing);

    // Detection log.
    m_detections->setHorizontalHeaderLabels(
        { tr("Time"), tr("Keyword"), tr("Score"), tr("Clock") });
    m_detections->verticalHeader()->setVisible(false);
    m_detections->horizontalHeader()->setStretchLastSection(true);
    m_detections->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_detections->setSelectionBehavior(QAbstractItemView::SelectRows);
    auto *logBox = new QGroupBox(tr("Detections"));
    auto *ll = new QVBoxLayout(logBox);
    ll->addWidget(m_detections);

    auto *side = new QVBoxLayout;
    side->addWidget(buildSettings(), 1);
    side->addWidget(buildRecorder());
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(posteriorBox, 3);
    bottom->addWidget(logBox, 3);
    bottom->addLayout(side, 2);
    auto *bottomWidget = new QWidget;
    bottomWidget->setLayout(bottom);
    return bottomWidget;
}

QWidget *LivePanel::buildSettings()
{
    m_smoothing->addItem(tr("EMA"), QStringLiteral("ema"));
    m_smoothing->addItem(tr("Moving average"), QStringLiteral("mean"));
    m_smoothing->addItem(tr("None"), QStringLiteral("none"));
    m_teacher->setChecked(true);
    m_teacher->setToolTip(tr("Run the teacher on the same window for its rollout attention"));
    m_classThresholds->setHorizontalHeaderLabels({ tr("Class"), tr("Threshold") });
    m_classThresholds->verticalHeader()->setVisible(false);
    m_classThresholds->horizontalHeader()->setStretchLastSection(true);
    m_classThresholds->setToolTip(tr("Per-class thresholds (empty: the common one)"));
    auto *settingsBox = new QGroupBox(tr("Detection"));
    auto *sf = new QFormLayout(settingsBox);
    sf->addRow(tr("Threshold"), m_threshold);
    sf->addRow(tr("For at least"), m_minDuration);
    sf->addRow(tr("Refractory"), m_refractory);
    auto *smoothRow = new QHBoxLayout;
    smoothRow->addWidget(m_smoothing);
    smoothRow->addWidget(m_smoothingSec);
    sf->addRow(tr("Smoothing"), smoothRow);
    auto *teacherRow = new QHBoxLayout;
    teacherRow->addWidget(m_teacher);
    teacherRow->addWidget(m_teacherInterval);
    sf->addRow(teacherRow);
    sf->addRow(m_classThresholds);

    return settingsBox;
}

// Record the last seconds (false triggers, new examples).
QWidget *LivePanel::buildRecorder()
{
    m_recordFolder->setPlaceholderText(tr("folder for recordings"));
    m_recordBrowse->setIcon(style()->standardIcon(QStyle::SP_DirOpenIcon));
    m_recordLabel->setEditable(true);
    m_recordLabel->addItem(QStringLiteral("false-trigger"));
    m_recordLabel->setToolTip(tr("Label: the recording goes to <folder>/<label>/"));
    m_record->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
    m_record->setToolTip(tr("Save the most recent audio as a WAV under the label"));
    m_record->setEnabled(false);
    auto *recordBox = new QGroupBox(tr("Record"));
    auto *rl = new QGridLayout(recordBox);
    rl->addWidget(m_recordFolder, 0, 0, 1, 2);
    rl->addWidget(m_recordBrowse, 0, 2);
    rl->addWidget(m_recordLabel, 1, 0);
    rl->addWidget(m_recordSeconds, 1, 1);
    rl->addWidget(m_record, 1, 2);

    return recordBox;
}

void LivePanel::connectControls()
{
    connect(m_start, &QPushButton::clicked, this, &LivePanel::onStartClicked);
    connect(m_refresh, &QToolButton::clicked, this, &LivePanel::refreshDevicesRequested);
    connect(m_input, QOverload<int>::of(&QComboBox::activated), this, &LivePanel::onInputActivated);
    connect(m_openRun, &QToolButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Run folder"), m_runDir);
        if (!dir.isEmpty())
            Q_EMIT runFolderChosen(dir);
    });
    connect(m_cell, QOverload<int>::of(&QComboBox::activated), this, [this](int i) {
        if (i >= 0)
            Q_EMIT cellChosen(m_runDir, m_cell->itemText(i));
    });
    for (auto *s : { m_threshold, m_minDuration, m_refractory, m_smoothingSec, m_teacherInterval })
        connect(s, QOverload<double>::of(&QDoubleSpinBox::valueChanged), this,
            &LivePanel::emitSettings);
    connect(m_smoothing, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
        &LivePanel::emitSettings);
    connect(m_teacher, &QCheckBox::toggled, this, &LivePanel::emitSettings);
    connect(m_classThresholds, &QTableWidget::itemChanged, this, [this] {
        if (!m_fillingThresholds)
            emitSettings();
    });
    connect(m_recordBrowse, &QToolButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("Folder for recordings"), m_recordFolder->text());
        if (!dir.isEmpty())
            m_recordFolder->setText(dir);
    });
    connect(m_record, &QPushButton::clicked, this, [this] {
        Q_EMIT recordRequested(m_recordFolder->text(), m_recordLabel->currentText().trimmed(),
            m_recordSeconds->value());
    });
}

void LivePanel::setDevices(const QStringList &inputs, int defaultIndex, const QString &whyNone)
{
    const QString previous = selectedDevice();
    m_input->clear();
    for (const QString &name : inputs)
        m_input->addItem(style()->standardIcon(QStyle::SP_MediaVolume), name, name);
    m_input->addItem(style()->standardIcon(QStyle::SP_FileIcon),
        m_file.isEmpty() ? tr("Audio file...") : tr("File: %1").arg(QFileInfo(m_file).fileName()),
        kFileEntry);
    int select = inputs.indexOf(previous);
    if (select < 0)
        select = inputs.isEmpty() ? m_input->count() - 1 : std::max(0, defaultIndex);
    m_input->setCurrentIndex(select);
    if (inputs.isEmpty()) {
        const QString why = whyNone.isEmpty() ? tr("No capture device found.") : whyNone;
        m_input->setToolTip(why);
        showMessage(why + QLatin1Char(' ') + tr("Audio files still work: pick \"Audio file...\"."));
        m_spectrogram->setPlaceholder(
            why + QStringLiteral("\n") + tr("You can stream an audio file instead."));
    } else {
        m_input->setToolTip(tr("Capture device, or an audio file streamed through the same path"));
        m_message->setVisible(false);
        m_spectrogram->setPlaceholder(tr("Choose an input and a student, then Listen."));
    }
}

void LivePanel::setCells(
    const QString &runDir, const QStringList &names, const QStringList &details, int current)
{
    m_runDir = runDir;
    m_cell->clear();
    for (int i = 0; i < names.size(); ++i) {
        m_cell->addItem(names[i]);
        m_cell->setItemData(i, details.value(i), Qt::ToolTipRole);
    }
    if (current >= 0 && current < names.size())
        m_cell->setCurrentIndex(current);
}

void LivePanel::setModel(const QString &description, const QStringList &classes, double windowSec,
    double hopSec, int spectrogramBins, double frameSec)
{
    m_modelInfo->setText(description);
    m_classes = classes;
    m_bars->setClasses(classes);
    m_fillingThresholds = true;
    m_classThresholds->setRowCount(0);
    for (const QString &c : classes) {
        if (c.startsWith('_'))
            continue;
        const int r = m_classThresholds->rowCount();
        m_classThresholds->insertRow(r);
        auto *name = new QTableWidgetItem(c);
        name->setFlags(name->flags() & ~Qt::ItemIsEditable);
        m_classThresholds->setItem(r, 0, name);
        m_classThresholds->setItem(r, 1, new QTableWidgetItem);
    }
    m_fillingThresholds = false;
    const QString keep = m_recordLabel->currentText();
    m_recordLabel->clear();
    m_recordLabel->addItem(QStringLiteral("false-trigger"));
    for (const QString &c : classes)
        m_recordLabel->addItem(c);
    m_recordLabel->setCurrentText(keep.isEmpty() ? QStringLiteral("false-trigger") : keep);
    m_spectrogram->configure(spectrogramBins, frameSec, std::max(6.0, 3.0 * windowSec));
    m_timing->setText(tr("window %1 s, hop %2 s").arg(windowSec, 0, 'f', 2).arg(hopSec, 0, 'f', 2));
    m_start->setEnabled(!classes.isEmpty());
    updateThresholdMarks();
}

void LivePanel::setRunning(bool running)
{
    m_running = running;
    m_start->setText(running ? tr("Stop") : tr("Listen"));
    m_start->setIcon(style()->standardIcon(running ? QStyle::SP_MediaStop : QStyle::SP_MediaPlay));
    m_input->setEnabled(!running);
    m_cell->setEnabled(!running);
    m_openRun->setEnabled(!running);
    m_record->setEnabled(running || m_spectrogram->frameCount() > 0);
    if (running)
        resetStream();
}

void LivePanel::resetStream()
{
    // A new stream starts from nothing: no posteriors, top class or marks of the last one.
    m_spectrogram->clear();
    m_detections->setRowCount(0);
    m_level->reset();
    m_bars->setPosteriors({});
    m_top->setText(QStringLiteral("-"));
}

void LivePanel::showFrame(const LiveFrame &f)
{
    m_spectrogram->appendFrames(f.spectrogram,
        f.hop >= 0 ? f.timeSec : m_spectrogram->endSec() + 0.02 * f.spectrogram.size());
    if (f.hop < 0)
        return;
    m_spectrogram->setWindow(f.windowStartSec, f.timeSec);
    m_spectrogram->setAttention(
        RollingSpectrogram::Curve::Student, f.studentAttention, f.studentStart, f.studentEnd);
    m_spectrogram->setAttention(
        RollingSpectrogram::Curve::Teacher, f.teacherAttention, f.teacherStart, f.teacherEnd);
    m_bars->setPosteriors(f.smoothed);
    if (f.topClass >= 0 && f.topClass < m_classes.size())
        m_top->setText(
            tr("%1  %2 %").arg(m_classes[f.topClass]).arg(100.0 * double(f.topScore), 0, 'f', 0));
    QString timing = tr("student %1 ms").arg(f.studentMs, 0, 'f', 2);
    if (!f.teacherAttention.isEmpty())
        timing += tr(", teacher %1")
                      .arg(f.teacherFresh ? tr("%1 ms").arg(f.teacherMs, 0, 'f', 1)
                                          : tr("(earlier window)"));
    timing += tr(", latency %1 ms").arg(f.latencyMs, 0, 'f', 1);
    m_timing->setText(timing);
    m_record->setEnabled(true);
}

void LivePanel::showDetection(const LiveDetectionRow &d)
{
    m_detections->insertRow(0);
    m_detections->setItem(
        0, 0, new QTableWidgetItem(QStringLiteral("%1 s").arg(d.timeSec, 0, 'f', 2)));
    m_detections->setItem(0, 1, new QTableWidgetItem(d.label));
    m_detections->setItem(0, 2, new QTableWidgetItem(QString::number(d.score, 'f', 2)));
    m_detections->setItem(0, 3, new QTableWidgetItem(d.wallClock));
    if (d.peakSec >= 0)
        m_detections->item(0, 1)->setToolTip(
            tr("student attention peak at %1 s").arg(d.peakSec, 0, 'f', 2));
    m_spectrogram->addMarker(d.timeSec, d.label);
}

void LivePanel::showStatus(const LiveStatusView &s)
{
    m_level->setPeak(s.peak);
    QString text = s.fromFile
        ? tr("File %1: %2 s streamed")
              .arg(QFileInfo(s.source).fileName())
              .arg(s.streamSec, 0, 'f', 1)
        : tr("%1 at %2 Hz: %3 s").arg(s.source).arg(s.rate, 0, 'f', 0).arg(s.streamSec, 0, 'f', 1);
    if (!s.fromFile) {
        text += tr("; overflows %1 (%2 frames lost)").arg(s.overflows).arg(s.droppedFrames);
        if (s.inputOverflows)
            text += tr(", driver overruns %1").arg(s.inputOverflows);
        if (s.health != QLatin1String("ok"))
            text += QStringLiteral("; ") + s.health
                + (s.message.isEmpty() ? QString() : QStringLiteral(": ") + s.message);
    }
    m_status->setText(text);
    const bool bad = s.overflows > 0 || s.health == QLatin1String("stalled")
        || s.health == QLatin1String("stopped");
    m_status->setStyleSheet(bad ? QStringLiteral("color: #c0392b") : QString());
}

void LivePanel::showMessage(const QString &message, bool error)
{
    m_message->setText(message);
    m_message->setStyleSheet(error ? QStringLiteral("color: #c0392b") : QString());
    m_message->setVisible(!message.isEmpty());
}

void LivePanel::showRecorded(const QString &path)
{
    showMessage(tr("Saved %1").arg(path));
}

LiveSettings LivePanel::settings() const
{
    LiveSettings s;
    s.threshold = m_threshold->value();
    s.minDurationSec = m_minDuration->value();
    s.refractorySec = m_refractory->value();
    s.smoothing = m_smoothing->currentData().toString();
    s.smoothingSec = m_smoothingSec->value();
    s.teacher = m_teacher->isChecked();
    s.teacherIntervalSec = m_teacherInterval->value();
    for (int r = 0; r < m_classThresholds->rowCount(); ++r) {
        const QTableWidgetItem *v = m_classThresholds->item(r, 1);
        bool ok = false;
        const double t = v ? v->text().toDouble(&ok) : 0.0;
        if (ok && t > 0.0 && t <= 1.0)
            s.classThresholds.insert(m_classThresholds->item(r, 0)->text(), t);
    }
    return s;
}

QString LivePanel::selectedDevice() const
{
    const QVariant d = m_input->currentData();
    return d.typeId() == QMetaType::Int && d.toInt() == kFileEntry ? QString() : d.toString();
}

QString LivePanel::selectedFile() const
{
    return m_file;
}

void LivePanel::setSelectedFile(const QString &path)
{
    m_file = path;
    const int i = m_input->findData(kFileEntry);
    if (i >= 0) {
        m_input->setItemText(i, tr("File: %1").arg(QFileInfo(path).fileName()));
        m_input->setCurrentIndex(i);
    }
}

void LivePanel::setRecordFolder(const QString &folder)
{
    m_recordFolder->setText(folder);
}

bool LivePanel::fileEntrySelected() const
{
    const QVariant d = m_input->currentData();
    return d.typeId() == QMetaType::Int && d.toInt() == kFileEntry;
}

bool LivePanel::pickFile()
{
    const QString start = m_file.isEmpty() ? QString() : QFileInfo(m_file).path();
    const QString path = m_pickFile
        ? m_pickFile(start)
        : QFileDialog::getOpenFileName(this, tr("Audio file to stream"), start,
            tr("Audio (*.wav *.flac *.ogg *.oga *.opus *.mp3);;All files (*)"));
    if (path.isEmpty())
        return false;
    setSelectedFile(path);
    return true;
}

void LivePanel::onInputActivated(int index)
{
    if (m_input->itemData(index).typeId() == QMetaType::Int
        && m_input->itemData(index).toInt() == kFileEntry)
        pickFile();
}

void LivePanel::onStartClicked()
{
    if (m_running) {
        Q_EMIT stopRequested();
        return;
    }
    // "Audio file..." chosen but no file yet (picked with the keyboard, or the dialog was
    // closed): Listen asks for the file rather than refusing.
    if (fileEntrySelected() && m_file.isEmpty() && !pickFile())
        return;
    const QString device = selectedDevice();
    if (!device.isEmpty()) {
        Q_EMIT startDeviceRequested(device);
    } else if (!m_file.isEmpty()) {
        Q_EMIT startFileRequested(m_file);
    } else {
        showMessage(tr("Choose a capture device or an audio file first."), true);
    }
}

void LivePanel::emitSettings()
{
    updateThresholdMarks();
    Q_EMIT settingsChanged(settings());
}

void LivePanel::updateThresholdMarks()
{
    const LiveSettings s = settings();
    QVector<double> t;
    for (const QString &c : m_classes)
        t.push_back(s.classThresholds.value(c, s.threshold));
    m_bars->setThresholds(t);
}

} // namespace tkd
