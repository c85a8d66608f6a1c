#include "LiveView.h"

#include "RecordingPanel.h"

#include "core/audio/AudioFile.h"
#include "core/audio/PortAudioSession.h"
#include "core/infer/LiveModel.h"
#include "core/infer/LiveSession.h"
#include "core/util/Error.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QPointer>
#include <QStandardPaths>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

namespace tkd {

namespace {

QString healthName(CaptureHealth::State s)
{
    switch (s) {
    case CaptureHealth::State::Idle:
        return QStringLiteral("idle");
    case CaptureHealth::State::Ok:
        return QStringLiteral("ok");
    case CaptureHealth::State::Stalled:
        return QStringLiteral("stalled");
    case CaptureHealth::State::Stopped:
        return QStringLiteral("stopped");
    }
    return QStringLiteral("idle");
}

QVector<float> toQ(const std::vector<float> &v)
{
    return QVector<float>(v.begin(), v.end());
}

StreamingOptions toOptions(const LiveSettings &s, bool live)
{
    StreamingOptions o;
    o.threshold = s.threshold;
    o.minDurationSec = s.minDurationSec;
    o.refractorySec = s.refractorySec;
    o.smoothing = posteriorSmoothingFromName(s.smoothing.toStdString());
    o.smoothingSec = s.smoothingSec;
    o.teacher = s.teacher;
    o.teacherIntervalSec = s.teacherIntervalSec;
    o.teacherBudget = live ? 0.5 : 0.0; // the student keeps up; the teacher takes what is left
    for (auto it = s.classThresholds.begin(); it != s.classThresholds.end(); ++it)
        o.classThresholds[it.key().toStdString()] = it.value();
    return o;
}

// Runs `work` on a fresh QThread and delivers its result to `context` on the GUI thread. The
// thread deletes itself when done; the caller keeps the pointer to join it before it goes away.
template <class Work, class Done> QThread *runInBackground(QObject *context, Work work, Done done)
{
    QThread *t = QThread::create([context = QPointer<QObject>(context), work, done]() mutable {
        auto result = work();
        if (context)
            QMetaObject::invokeMethod(
                context, [done, result]() mutable { done(result); }, Qt::QueuedConnection);
    });
    QObject::connect(t, &QThread::finished, t, &QObject::deleteLater);
    t->start();
    return t;
}

} // namespace

LiveView::LiveView(QWidget *parent)
    : QWidget(parent)
    , m_panel(new LivePanel)
    , m_recording(new RecordingPanel)
    , m_alive(std::make_shared<std::atomic<bool>>(true))
{
    qRegisterMetaType<LiveFrame>();
    qRegisterMetaType<LiveDetectionRow>();
    qRegisterMetaType<LiveStatusView>();
    qRegisterMetaType<LiveSettings>();
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_panel);
    layout->addWidget(m_recording);
    m_panel->setRecordFolder(QDir(QStandardPaths::writableLocation(QStandardPaths::MusicLocation))
                                 .filePath(QStringLiteral("tkd-recordings")));

    connect(m_panel, &LivePanel::refreshDevicesRequested, this, &LiveView::refreshDevices);
    connect(m_panel, &LivePanel::runFolderChosen, this, &LiveView::openModel);
    connect(m_panel, &LivePanel::cellChosen, this, [this](const QString &run, const QString &cell) {
        openModel(QDir(run).filePath(QStringLiteral("students/") + cell));
    });
    connect(m_panel, &LivePanel::startDeviceRequested, this, &LiveView::startDevice);
    connect(m_panel, &LivePanel::startFileRequested, this,
        [this](const QString &p) { startFile(p, true); });
    connect(m_panel, &LivePanel::stopRequested, this, &LiveView::stop);
    connect(m_panel, &LivePanel::settingsChanged, this, &LiveView::applySettings);
    connect(m_panel, &LivePanel::recordRequested, this,
        [this](const QString &folder, const QString &label, double seconds) {
            recordLast(folder, label, seconds);
        });

    m_recording->setFolder(QDir(QStandardPaths::writableLocation(QStandardPaths::MusicLocation))
                               .filePath(QStringLiteral("tkd-keywords")));
    m_recording->setDeviceSource([this] { return m_panel->selectedDevice(); });
    // One user of the microphone at a time; an adapted student replaces the current one.
    connect(m_recording, &RecordingPanel::captureStarting, this, &LiveView::stop);
    connect(m_recording, &RecordingPanel::adapted, this,
        [this](const QString &cellDir) { openModel(cellDir); });
    connect(
        this, &LiveView::modelLoaded, m_recording, [this] { m_recording->setModel(m_modelPath); });

    // A run named by the environment, else the demo student shipped with TKD Studio, so a new
    // user can speak to the microphone before training anything.
    QString model = qEnvironmentVariable("TKD_LIVE_MODEL");
    m_autostart = qEnvironmentVariable("TKD_LIVE_SOURCE");
    if (model.isEmpty())
        model = QString::fromStdString(shippedDemoStudent());
    if (!model.isEmpty())
        openModel(model);
}

LiveView::~LiveView()
{
    *m_alive = false;
    if (m_session)
        m_session->stop(); // joins the worker: no callback runs after this
    // A model load or device probe still running would outlive the view, and at exit it raced
    // LibTorch's static destructors (a heap corruption in tst_studio). Their results are dropped.
    for (const QPointer<QThread> &t : std::as_const(m_background))
        if (t)
            t->wait();
}

template <class Work, class Done> void LiveView::inBackground(Work work, Done done)
{
    m_background.removeAll(nullptr);
    m_background << runInBackground(this, std::move(work), std::move(done));
}

void LiveView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (!m_devicesRequested)
        refreshDevices();
}

void LiveView::refreshDevices()
{
    m_devicesRequested = true;
    inBackground(
        [] {
            std::pair<QStringList, QString> r;
            try {
                int def = -1;
                for (const auto &d : listAudioDevices())
                    if (d.maxInputChannels > 0) {
                        if (d.isDefaultInput)
                            def = r.first.size();
                        r.first << QString::fromStdString(d.name);
                    }
                r.second = QString::number(def);
            } catch (const std::exception &e) {
                r.second = QString::fromUtf8(e.what());
            }
            return r;
        },
        [this](const std::pair<QStringList, QString> &r) {
            bool isIndex = false;
            const int def = r.second.toInt(&isIndex);
            QString why;
            if (r.first.isEmpty())
                why = isIndex
                    ? tr("No capture device: PortAudio sees no microphone (no sound card, or no "
                         "permission for /dev/snd).")
                    : tr("No capture device: %1").arg(r.second);
            m_panel->setDevices(r.first, isIndex ? def : -1, why);
            Q_EMIT devicesListed(int(r.first.size()));
        });
}

void LiveView::openModel(const QString &path)
{
    if (isRunning())
        stop();
    const int generation = ++m_loadGeneration;
    m_loading = true;
    m_panel->showMessage(tr("Loading %1...").arg(QFileInfo(path).fileName()));
    struct Loaded
    {
        std::shared_ptr<LiveModel> model;
        std::vector<LiveCell> cells;
        QString error;
    };
    inBackground(
        [p = path.toStdString()] {
            Loaded l;
            try {
                const LiveModelInfo info = resolveLiveModel(p);
                l.cells = listLiveCells(info.runDir);
                l.model = LiveModel::load(info);
            } catch (const std::exception &e) {
                l.error = QString::fromUtf8(e.what());
            }
            return l;
        },
        [this, generation, path](const Loaded &l) {
            if (generation != m_loadGeneration)
                return; // a newer choice superseded this one
            m_loading = false;
            if (!l.error.isEmpty()) {
                fail(l.error);
                return;
            }
            m_model = l.model;
            m_modelPath = path;
            const LiveModelInfo &info = m_model->info();
            QStringList names, details;
            int current = 0;
            for (const auto &c : l.cells) {
                if (c.name == info.cell.name)
                    current = names.size();
                names << QString::fromStdString(c.name);
                details << tr("test accuracy %1, trained at %2 s")
                               .arg(c.testAccuracy >= 0 ? QString::number(c.testAccuracy, 'f', 3)
                                                        : tr("unknown"))
                               .arg(c.lengthSec);
            }
            m_panel->setCells(QString::fromStdString(info.runDir), names, details, current);
            QStringList classes;
            for (const auto &c : info.classes)
                classes << QString::fromStdString(c);
            const std::string source = m_model->studentAttentionSource();
            QString description
                = tr("%1: %2 parameters, %3 classes, window %4 s; student attention: %5; teacher: "
                     "%6")
                      .arg(QString::fromStdString(info.cell.name))
                      .arg(m_model->parameterCount())
                      .arg(classes.size())
                      .arg(info.windowSec)
                      .arg(source.empty()
                              ? tr("none (this student has no branch or native attention)")
                              : QString::fromStdString(source))
                      .arg(m_model->hasTeacher()
                              ? QString::fromStdString(info.teacherKind)
                              : tr("none (%1)").arg(QString::fromStdString(info.teacherNote)));
            const double frameSec = info.features.hopMs / 1000.0;
            // The geometry the classifier will use (hop 0.1 s in whole frames).
            const double hop = std::max(1.0, std::round(100.0 / info.features.hopMs)) * frameSec;
            if (QDir::cleanPath(QString::fromStdString(info.runDir))
                == QDir::cleanPath(QString::fromStdString(shippedDemoStudent())))
                description = tr("Demo student shipped with TKD Studio (open a run of yours to use "
                                 "its students instead). ")
                    + description;
            m_panel->setModel(
                description, classes, info.windowSec, hop, info.features.melBins, frameSec);
            m_panel->showMessage({});
            Q_EMIT modelLoaded(description);
            if (!m_autostart.isEmpty()) {
                const QString source = m_autostart;
                m_autostart.clear();
                if (QFileInfo(source).isFile()) {
                    m_panel->setSelectedFile(source);
                    startFile(source, true);
                } else {
                    startDevice(source);
                }
            }
        });
}

bool LiveView::isRunning() const
{
    return m_session && m_session->isRunning();
}

void LiveView::fail(const QString &message)
{
    m_panel->showMessage(message, true);
    Q_EMIT failed(message);
}

void LiveView::applySettings(const LiveSettings &s)
{
    if (!m_session)
        return;
    try {
        StreamingOptions o = m_session->options();
        const StreamingOptions n = toOptions(s, o.teacherBudget > 0.0);
        o.threshold = n.threshold;
        o.minDurationSec = n.minDurationSec;
        o.refractorySec = n.refractorySec;
        o.smoothing = n.smoothing;
        o.smoothingSec = n.smoothingSec;
        o.teacher = n.teacher;
        o.teacherIntervalSec = n.teacherIntervalSec;
        o.classThresholds = n.classThresholds;
        m_session->setOptions(o);
    } catch (const std::exception &e) {
        fail(QString::fromUtf8(e.what()));
    }
}

void LiveView::startDevice(const QString &device)
{
    stop();
    if (!m_model) {
        fail(tr("Choose a student first (open a run folder)."));
        return;
    }
    std::shared_ptr<std::atomic<bool>> alive = m_alive;
    QPointer<LiveView> self(this);
    LiveSession::Callbacks cb;
    cb.onUpdate = [self, alive](const LiveUpdate &u) {
        if (!*alive)
            return;
        LiveFrame f;
        const StreamingResult &r = u.result;
        f.hop = r.hop;
        f.timeSec = r.timeSec;
        f.windowStartSec = r.windowStartSec;
        f.posteriors = toQ(r.posteriors);
        f.smoothed = toQ(r.smoothed);
        f.topClass = r.topClass;
        f.topScore = r.topScore;
        f.studentAttention = toQ(r.student.weights);
        f.studentStart = r.student.startSec;
        f.studentEnd = r.student.endSec;
        f.teacherAttention = toQ(r.teacher.weights);
        f.teacherStart = r.teacher.startSec;
        f.teacherEnd = r.teacher.endSec;
        f.teacherFresh = r.teacherFresh;
        f.studentMs = r.studentMs;
        f.teacherMs = r.teacherMs;
        f.spectrogram.reserve(int(u.spectrogram.size()));
        for (const auto &col : u.spectrogram)
            f.spectrogram.push_back(toQ(col));
        const auto samplesAt = u.samplesAt;
        QMetaObject::invokeMethod(
            self.data(),
            [self, f, samplesAt]() mutable {
                if (!self)
                    return;
                f.latencyMs = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - samplesAt)
                                  .count();
                self->m_panel->showFrame(f);
                if (f.hop >= 0) {
                    ++self->m_frames;
                    self->m_latencySumMs += f.latencyMs;
                    Q_EMIT self->frameShown(f.hop);
                }
            },
            Qt::QueuedConnection);
    };
    cb.onDetection = [self, alive](const Detection &d) {
        if (!*alive)
            return;
        LiveDetectionRow row;
        row.timeSec = d.timeSec;
        row.label = QString::fromStdString(d.label);
        row.score = d.score;
        row.peakSec = d.peakSec;
        row.wallClock = QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss.zzz"));
        QMetaObject::invokeMethod(
            self.data(),
            [self, row] {
                if (!self)
                    return;
                self->m_panel->showDetection(row);
                Q_EMIT self->detected(row.label, row.timeSec);
            },
            Qt::QueuedConnection);
    };
    cb.onStatus = [self, alive](const LiveStatus &s) {
        if (!*alive)
            return;
        LiveStatusView v;
        v.source = QString::fromStdString(s.source);
        v.fromFile = s.fromFile;
        v.rate = s.rate;
        v.peak = s.peak;
        v.overflows = s.overflows;
        v.droppedFrames = s.droppedFrames;
        v.inputOverflows = s.inputOverflows;
        v.health = healthName(s.health);
        v.message = QString::fromStdString(s.message);
        v.streamSec = s.streamSec;
        v.wallSec = s.wallSec;
        QMetaObject::invokeMethod(
            self.data(),
            [self, v] {
                if (self)
                    self->m_panel->showStatus(v);
            },
            Qt::QueuedConnection);
    };
    cb.onError = [self, alive](const std::string &e) {
        if (!*alive)
            return;
        const QString m = QString::fromStdString(e);
        QMetaObject::invokeMethod(
            self.data(),
            [self, m] {
                if (self)
                    self->fail(m);
            },
            Qt::QueuedConnection);
    };
    cb.onFinished = [self, alive] {
        if (!*alive)
            return;
        QMetaObject::invokeMethod(
            self.data(),
            [self] {
                if (self)
                    self->sessionEnded();
            },
            Qt::QueuedConnection);
    };

    const bool fromFile = device.startsWith(QStringLiteral("file:"));
    if (fromFile) {
        // A file shorter than one analysis window gives no hop at all: say so, like tkd live.
        QString path = device.mid(5);
        if (path.startsWith(QStringLiteral("fast:")))
            path = path.mid(5);
        try {
            const double sec = probeAudio(path.toStdString()).durationSec();
            const double window = m_model->info().windowSec;
            if (sec < window) {
                m_panel->resetStream();
                fail(tr("%1 is %2 s long, shorter than one analysis window (%3 s) of this "
                        "student: there is nothing to classify.")
                         .arg(QFileInfo(path).fileName())
                         .arg(sec, 0, 'f', 2)
                         .arg(window, 0, 'f', 2));
                return;
            }
        } catch (const std::exception &e) {
            m_panel->resetStream();
            fail(QString::fromUtf8(e.what()));
            return;
        }
    }
    try {
        m_session
            = std::make_unique<LiveSession>(m_model, toOptions(m_panel->settings(), !fromFile), cb);
        m_frames = 0;
        m_latencySumMs = 0.0;
        m_panel->setRunning(true);
        m_panel->showMessage({});
        if (fromFile) {
            const QString spec = device.mid(5);
            const bool realTime = !spec.startsWith(QStringLiteral("fast:"));
            m_session->startFile((realTime ? spec : spec.mid(5)).toStdString(), realTime);
        } else {
            CaptureOptions cap;
            cap.device = device == QLatin1String("default") ? std::string() : device.toStdString();
            m_session->startDevice(cap);
        }
        Q_EMIT started();
    } catch (const std::exception &e) {
        m_session.reset();
        m_panel->setRunning(false);
        fail(QString::fromUtf8(e.what()));
    }
}

void LiveView::startFile(const QString &path, bool realTime)
{
    startDevice(QStringLiteral("file:") + (realTime ? QString() : QStringLiteral("fast:")) + path);
}

void LiveView::stop()
{
    if (!m_session)
        return;
    m_session->stop();
    m_panel->setRunning(false);
    Q_EMIT stopped();
}

void LiveView::sessionEnded()
{
    // A file ran out or the device failed: the worker has ended; keep the session (its recent
    // audio can still be recorded) but show that it stopped.
    if (m_session && !m_session->isRunning()) {
        m_panel->setRunning(false);
        Q_EMIT stopped();
    }
}

QString LiveView::recordLast(const QString &folder, const QString &label, double seconds)
{
    if (!m_session) {
        fail(tr("Nothing to record yet: start listening first."));
        return {};
    }
    try {
        const QString path = QString::fromStdString(
            m_session->saveRecent(folder.toStdString(), label.toStdString(), seconds));
        m_panel->showRecorded(path);
        return path;
    } catch (const std::exception &e) {
        fail(QString::fromUtf8(e.what()));
        return {};
    }
}

} // namespace tkd
