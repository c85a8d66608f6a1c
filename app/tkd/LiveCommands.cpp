// `tkd live`: the live view without a screen. A trained student listens to a microphone (or a
// file, streamed through exactly the same path, faster than real time) and prints every
// detection with its stream time. Ctrl-C ends a device session cleanly.
#include "Cli.h"

#include "core/audio/AudioFile.h"
#include "core/infer/LiveModel.h"
#include "core/infer/LiveSession.h"
#include "core/models/ShippedModels.h"
#include "core/util/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

namespace {

std::string fixed(double v, int decimals)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string wallClock()
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const int ms
        = int(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()
            % 1000);
    std::tm tm {};
    localtime_r(&t, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

struct LiveOptions
{
    std::string model;
    std::string device;
    std::string file;
    double seconds = 0.0; // device: 0 = until Ctrl-C
    tkd::StreamingOptions stream;
    std::string smoothing = "ema";
    std::string classThresholds; // NAME=P,...
    bool noTeacher = false;
    bool realTime = false;
    bool hops = false;
    bool json = false;
    bool list = false;
};

// The streaming options from the command line; throws naming the bad option.
tkd::StreamingOptions streamingOptions(const LiveOptions &lo, bool useDevice)
{
    tkd::StreamingOptions o = lo.stream;
    o.smoothing = tkd::posteriorSmoothingFromName(lo.smoothing);
    o.teacher = !lo.noTeacher;
    if (useDevice)
        o.teacherBudget
            = 0.5; // the student must keep up with the microphone; the teacher gets what is left
    for (const auto &item : tkd::cli::splitList(lo.classThresholds)) {
        const auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
            throw tkd::Error("--class-threshold", "'" + item + "' is not NAME=P");
        try {
            o.classThresholds[item.substr(0, eq)] = std::stod(item.substr(eq + 1));
        } catch (const std::exception &) {
            throw tkd::Error("--class-threshold", "'" + item + "': not a number after '='");
        }
    }
    o.validate();
    return o;
}

// What a live session prints, hop by hop and at the end, and the counts behind its summary.
// The session's callbacks arrive on its worker thread: one mutex keeps lines whole.
class LivePrinter
{
public:
    LivePrinter(const LiveOptions &lo, std::vector<std::string> classes, bool useDevice)
        : m_json(lo.json)
        , m_hops(lo.hops)
        , m_useDevice(useDevice)
        , m_classes(std::move(classes))
    { }

    tkd::LiveSession::Callbacks callbacks()
    {
        tkd::LiveSession::Callbacks cb;
        cb.onUpdate = [this](const tkd::LiveUpdate &u) { update(u.result); };
        cb.onDetection = [this](const tkd::Detection &d) { detection(d); };
        cb.onError = [this](const std::string &e) {
            std::lock_guard<std::mutex> l(m_out);
            m_error = e;
        };
        return cb;
    }

    void describe(const tkd::LiveModelInfo &info, const tkd::LiveModel &model,
        const tkd::LiveSession &session, const tkd::StreamingOptions &o,
        const std::string &source) const
    {
        if (m_json)
            return;
        std::cout << "model:    " << info.cell.name << " (" << model.parameterCount()
                  << " parameters) from " << info.runDir << "\n"
                  << "classes:  " << m_classes.size()
                  << "; detections exclude _unknown_ and _silence_\n"
                  << "window:   " << fixed(session.windowSec(), 2) << " s, hop "
                  << fixed(session.hopSec(), 2) << " s, "
                  << tkd::posteriorSmoothingName(o.smoothing) << " smoothing "
                  << fixed(o.smoothingSec, 2) << " s, threshold " << fixed(o.threshold, 2)
                  << " for " << fixed(o.minDurationSec, 2) << " s, refractory "
                  << fixed(o.refractorySec, 2) << " s\n"
                  << "teacher:  "
                  << (model.hasTeacher() ? info.teacherKind + " (" + info.teacherCheckpoint + ")"
                                         : "none: " + model.info().teacherNote)
                  << "\n"
                  << "source:   " << source << "\n";
    }

    void summary(double audioSec, double wall, const tkd::LiveStatus &status) const
    {
        const double studentMean = m_hopCount ? m_studentMs / double(m_hopCount) : 0.0;
        if (m_json) {
            std::cout << nlohmann::json {
                { "type", "summary" }, { "audio_seconds", audioSec }, { "wall_seconds", wall },
                { "hops", m_hopCount }, { "detections", m_detections },
                { "student_ms_mean", studentMean },
                { "teacher_ms_mean", m_teacherRuns ? m_teacherMs / m_teacherRuns : 0.0 },
                { "teacher_runs", m_teacherRuns }, { "overflows", status.overflows },
                { "dropped_frames", status.droppedFrames }, { "error", m_error }
            }.dump() << "\n";
            return;
        }
        std::cout << "summary:  " << fixed(audioSec, 2) << " s of audio in " << fixed(wall, 2)
                  << " s (" << fixed(wall > 0 ? audioSec / wall : 0.0, 1) << "x real time), "
                  << m_hopCount << " hops, " << m_detections << " detection(s); student "
                  << fixed(studentMean, 2) << " ms/hop (worst " << fixed(m_worstStudentMs, 2)
                  << ")";
        if (m_teacherRuns)
            std::cout << ", teacher " << fixed(m_teacherMs / m_teacherRuns, 2) << " ms x "
                      << m_teacherRuns;
        if (m_useDevice)
            std::cout << "; overflows " << status.overflows << " (" << status.droppedFrames
                      << " frames dropped)";
        std::cout << "\n";
    }

    int64_t hops() const { return m_hopCount; }
    const std::string &error() const { return m_error; }

private:
    void update(const tkd::StreamingResult &r)
    {
        if (r.hop < 0)
            return;
        std::lock_guard<std::mutex> l(m_out);
        ++m_hopCount;
        m_studentMs += r.studentMs;
        m_worstStudentMs = std::max(m_worstStudentMs, r.studentMs);
        if (r.teacherFresh) {
            m_teacherMs += r.teacherMs;
            ++m_teacherRuns;
        }
        if (!m_hops)
            return;
        if (m_json) {
            nlohmann::json j = { { "type", "hop" }, { "time", r.timeSec },
                { "top", m_classes[size_t(r.topClass)] }, { "score", r.topScore },
                { "posteriors", r.smoothed }, { "student_ms", r.studentMs } };
            if (!r.student.weights.empty())
                j["student_attention_peak"] = r.student.peakSec();
            if (r.belowFloor)
                j["below_silence_floor"] = true;
            if (r.teacherFresh) {
                j["teacher_attention_peak"] = r.teacher.peakSec();
                j["teacher_ms"] = r.teacherMs;
            }
            std::cout << j.dump() << "\n";
            return;
        }
        std::cout << "  " << fixed(r.timeSec, 2) << " s  hop " << r.hop << "  "
                  << m_classes[size_t(r.topClass)] << " " << fixed(r.topScore, 2);
        if (!r.student.weights.empty())
            std::cout << "  student attention peak " << fixed(r.student.peakSec(), 2) << " s";
        if (r.belowFloor)
            std::cout << "  (below the silence floor: no model ran)";
        if (r.teacherFresh)
            std::cout << "  teacher peak " << fixed(r.teacher.peakSec(), 2) << " s";
        std::cout << "\n";
    }

    void detection(const tkd::Detection &d)
    {
        std::lock_guard<std::mutex> l(m_out);
        ++m_detections;
        if (m_json) {
            std::cout << nlohmann::json {
                { "type", "detection" }, { "time", d.timeSec }, { "label", d.label },
                { "score", d.score }, { "window", { d.windowStartSec, d.timeSec } },
                { "attention_peak", d.peakSec }, { "wall_clock", wallClock() }
            }.dump() << std::endl;
            return;
        }
        std::cout << fixed(d.timeSec, 2) << " s  " << d.label << "  " << fixed(d.score, 2)
                  << "  (window " << fixed(d.windowStartSec, 2) << "-" << fixed(d.timeSec, 2)
                  << " s"
                  << (d.peakSec >= 0 ? ", attention peak " + fixed(d.peakSec, 2) + " s"
                                     : std::string())
                  << ")" << (m_useDevice ? "  at " + wallClock() : std::string()) << std::endl;
    }

    const bool m_json, m_hops, m_useDevice;
    const std::vector<std::string> m_classes;
    std::mutex m_out;
    int m_detections = 0;
    int64_t m_hopCount = 0;
    double m_studentMs = 0.0, m_teacherMs = 0.0, m_worstStudentMs = 0.0;
    int m_teacherRuns = 0;
    std::string m_error;
};

int listCells(const std::string &model)
{
    const tkd::LiveModelInfo info = tkd::resolveLiveModel(model);
    for (const auto &c : tkd::listLiveCells(info.runDir))
        std::cout << c.name << "  L=" << c.lengthSec << " s  test accuracy "
                  << (c.testAccuracy >= 0 ? fixed(c.testAccuracy, 3) : std::string("?")) << "  "
                  << c.checkpoint << "\n";
    return 0;
}

int runLive(LiveOptions lo)
{
    if (lo.model.empty()) { // the demo student shipped with TKD Studio
        lo.model = tkd::shippedDemoStudent();
        if (lo.model.empty())
            throw tkd::Error("--model",
                "required: a run folder written by tkd train, or <run>/students/<cell> (the "
                "shipped demo student, resources/"
                    + std::string(tkd::kShippedDemoStudent) + ", is not installed)");
        if (!lo.json)
            std::cout << "no --model: the demo student shipped with TKD Studio (" << lo.model
                      << ")\n";
    }
    if (lo.list)
        return listCells(lo.model);
    const bool useDevice = !lo.device.empty(), useFile = !lo.file.empty();
    if (useDevice == useFile)
        throw tkd::Error(
            useDevice ? "--file" : "--device", "give exactly one of --device NAME or --file AUDIO");
    const tkd::StreamingOptions o = streamingOptions(lo, useDevice);

    const tkd::LiveModelInfo info = tkd::resolveLiveModel(lo.model);
    const auto model = tkd::LiveModel::load(info, o.teacher);
    const std::vector<std::string> &classes = model->info().classes;
    for (const auto &entry : o.classThresholds)
        if (std::find(classes.begin(), classes.end(), entry.first) == classes.end())
            throw tkd::Error(
                "--class-threshold", "'" + entry.first + "' is not a class of this model");

    LivePrinter printer(lo, classes, useDevice);
    tkd::LiveSession session(model, o, printer.callbacks());
    tkd::cli::InterruptGuard interrupt; // Ctrl-C ends a device session cleanly
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    if (useFile) {
        session.startFile(lo.file, lo.realTime);
        printer.describe(info, *model, session, o, lo.file);
    } else {
        tkd::CaptureOptions cap;
        cap.device = lo.device == "default" ? std::string() : lo.device;
        session.startDevice(cap);
        printer.describe(info, *model, session, o,
            session.lastStatus().source.empty() ? lo.device : session.lastStatus().source);
        if (!lo.json)
            std::cout << "listening"
                      << (lo.seconds > 0 ? " for " + fixed(lo.seconds, 1) + " s"
                                         : std::string(" (Ctrl-C to stop)"))
                      << "...\n"
                      << std::flush;
    }
    while (session.isRunning() && !tkd::cli::InterruptGuard::interrupted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (useDevice && lo.seconds > 0 && elapsed() >= lo.seconds)
            break;
    }
    session.stop();
    const tkd::LiveStatus status = session.lastStatus();
    printer.summary(status.streamSec, elapsed(), status);

    if (!printer.error().empty())
        throw tkd::Error("live", printer.error()); // already names the device or file
    if (tkd::cli::InterruptGuard::interrupted() && printer.hops() == 0)
        return 130;
    if (printer.hops() == 0)
        throw tkd::Error(useFile ? lo.file : lo.device,
            "shorter than one analysis window (" + fixed(session.windowSec(), 2)
                + " s): nothing classified");
    return 0;
}

const tkd::cli::Registrar reg("live",
    "classify a microphone or file as a stream and print keyword detections",
    "Usage: tkd live [--model RUN_DIR[/students/CELL]] (--device NAME | --file AUDIO) [options]\n\n"
    "Streams a microphone (or a file, through the same streaming path) into a trained student and "
    "prints "
    "each keyword detection with its time. Every hop the student classifies the last WINDOW "
    "seconds "
    "(default: the length it was trained at); posteriors are smoothed over time and a keyword is "
    "reported "
    "when its smoothed posterior stays above the threshold for the minimum duration, at most once "
    "per "
    "refractory period. _unknown_ and _silence_ are classes but never detections. A file runs "
    "faster than "
    "real time unless --real-time. Exits 0 when the stream was classified, 1 on an error (bad "
    "model, device "
    "or file), 130 when interrupted before any audio arrived.",
    [](CLI::App &app) {
        auto o = std::make_shared<LiveOptions>();
        tkd::StreamingOptions &s = o->stream;
        app.add_option("--model", o->model,
            "run folder written by tkd train (its best student), or <run>/students/<cell> "
            "(default: the demo student shipped with TKD Studio)");
        app.add_option("--device", o->device,
            "capture device, exact name or part of it ('default' for the system default)");
        app.add_option("--file", o->file,
            "audio file to stream instead of a device (any format libsndfile reads)");
        app.add_option("--seconds", o->seconds,
               "device: stop after this many seconds (default: until Ctrl-C)")
            ->check(CLI::PositiveNumber);
        app.add_option(
            "--window", s.windowSec, "analysis window (default: the student's training length)");
        app.add_option("--hop", s.hopSec, "time between student runs")->capture_default_str();
        app.add_option("--threshold", s.threshold, "smoothed posterior a keyword must reach")
            ->capture_default_str();
        app.add_option("--class-threshold", o->classThresholds,
            "per-class thresholds NAME=P,..., e.g. yes=0.8,no=0.7");
        app.add_option(
               "--smoothing", o->smoothing, "posterior smoothing over time: ema | mean | none")
            ->capture_default_str();
        app.add_option(
               "--smoothing-time", s.smoothingSec, "EMA time constant or moving-average length")
            ->capture_default_str();
        app.add_option("--min-duration", s.minDurationSec,
               "how long the posterior must stay above the threshold")
            ->capture_default_str();
        app.add_option(
               "--refractory", s.refractorySec, "no detection this soon after the previous one")
            ->capture_default_str();
        app.add_option("--silence-floor", s.silenceFloorDb,
               "a window quieter than this (dBFS RMS) is _silence_ without running the model "
               "(-inf: off)")
            ->capture_default_str();
        app.add_option("--teacher-interval", s.teacherIntervalSec,
               "run the teacher at most once per S seconds (0: every hop)")
            ->capture_default_str();
        app.add_flag("--no-teacher", o->noTeacher,
            "do not run the teacher (its attention is not needed headless)");
        app.add_flag("--real-time", o->realTime, "file: pace it like a microphone");
        app.add_flag(
            "--hops", o->hops, "also print every hop's top class (and the teacher's when it ran)");
        app.add_flag("--json", o->json,
            "print one JSON object per detection (and per hop with --hops), then a summary");
        app.add_flag("--list", o->list, "list the run's trained students and exit");
        return [o] { return runLive(*o); };
    });

} // namespace
