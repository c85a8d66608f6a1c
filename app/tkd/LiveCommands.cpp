// `tkd live`: the live view without a screen. A trained student listens to a microphone (or a
// file, streamed through exactly the same path, faster than real time) and prints every
// detection with its stream time. Ctrl-C ends a device session cleanly.
#include "Cli.h"

#include "core/audio/AudioFile.h"
#include "core/infer/LiveModel.h"
#include "core/infer/LiveSession.h"
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

std::atomic<bool> g_interrupted{false};
void onInterrupt(int) { g_interrupted = true; } // an atomic store only: signal-safe

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
    const int ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

int runLive(const std::vector<std::string> &argv)
{
    tkd::cli::Args args(
        "tkd live --model RUN_DIR[/students/CELL] (--device NAME | --file AUDIO) [options]",
        "Streams a microphone (or a file, through the same streaming path) into a trained student "
        "and prints each keyword detection with its time. Every hop the student classifies the "
        "last WINDOW seconds (default: the length it was trained at); posteriors are smoothed over "
        "time and a keyword is reported when its smoothed posterior stays above the threshold for "
        "the minimum duration, at most once per refractory period. _unknown_ and _silence_ are "
        "classes but never detections. A file runs faster than real time unless --real-time. "
        "Exits 0 when the stream was classified, 1 on an error (bad model, device or file), 130 "
        "when interrupted before any audio arrived.");
    args.option("model", "DIR", "run folder written by tkd train (its best student), or <run>/students/<cell>")
        .option("device", "NAME", "capture device, exact name or part of it ('default' for the system default)")
        .option("file", "AUDIO", "audio file to stream instead of a device (any format libsndfile reads)")
        .option("seconds", "S", "device: stop after this many seconds (default: until Ctrl-C)")
        .option("window", "S", "analysis window (default: the student's training length)")
        .option("hop", "S", "time between student runs", "0.1")
        .option("threshold", "P", "smoothed posterior a keyword must reach", "0.6")
        .option("class-threshold", "NAME=P,...", "per-class thresholds, e.g. yes=0.8,no=0.7")
        .option("smoothing", "KIND", "posterior smoothing over time: ema | mean | none", "ema")
        .option("smoothing-time", "S", "EMA time constant or moving-average length", "0.2")
        .option("min-duration", "S", "how long the posterior must stay above the threshold", "0.2")
        .option("refractory", "S", "no detection this soon after the previous one", "1")
        .option("teacher-interval", "S", "run the teacher at most once per S seconds (0: every hop)", "0")
        .flag("no-teacher", "do not run the teacher (its attention is not needed headless)")
        .flag("real-time", "file: pace it like a microphone")
        .flag("hops", "also print every hop's top class (and the teacher's when it ran)")
        .flag("json", "print one JSON object per detection (and per hop with --hops), then a summary")
        .flag("list", "list the run's trained students and exit");
    if (!args.parse(argv))
        return 0;
    if (!args.rest().empty())
        throw tkd::Error(args.rest().front(), "unexpected argument (see --help)");
    if (!args.has("model"))
        throw tkd::Error("--model", "required: a run folder written by tkd train, or <run>/students/<cell>");

    if (args.has("list")) {
        const tkd::LiveModelInfo info = tkd::resolveLiveModel(args.get("model"));
        for (const auto &c : tkd::listLiveCells(info.runDir))
            std::cout << c.name << "  L=" << c.lengthSec << " s  test accuracy "
                      << (c.testAccuracy >= 0 ? fixed(c.testAccuracy, 3) : std::string("?")) << "  " << c.checkpoint
                      << "\n";
        return 0;
    }
    const bool useDevice = args.has("device"), useFile = args.has("file");
    if (useDevice == useFile)
        throw tkd::Error(useDevice ? "--file" : "--device", "give exactly one of --device NAME or --file AUDIO");

    tkd::StreamingOptions o;
    if (args.has("window"))
        o.windowSec = args.getDouble("window");
    o.hopSec = args.getDouble("hop");
    o.threshold = args.getDouble("threshold");
    o.smoothing = tkd::posteriorSmoothingFromName(args.get("smoothing"));
    o.smoothingSec = args.getDouble("smoothing-time");
    o.minDurationSec = args.getDouble("min-duration");
    o.refractorySec = args.getDouble("refractory");
    o.teacher = !args.has("no-teacher");
    o.teacherIntervalSec = args.getDouble("teacher-interval");
    if (useDevice)
        o.teacherBudget = 0.5; // the student must keep up with the microphone; the teacher gets what is left
    if (args.has("class-threshold"))
        for (const auto &item : args.getList("class-threshold")) {
            const auto eq = item.find('=');
            if (eq == std::string::npos || eq == 0)
                throw tkd::Error("--class-threshold", "'" + item + "' is not NAME=P");
            try {
                o.classThresholds[item.substr(0, eq)] = std::stod(item.substr(eq + 1));
            } catch (const std::exception &) {
                throw tkd::Error("--class-threshold", "'" + item + "': not a number after '='");
            }
        }
    double seconds = 0.0;
    if (args.has("seconds")) {
        seconds = args.getDouble("seconds");
        if (!(seconds > 0.0))
            throw tkd::Error("--seconds", "must be > 0");
    }
    o.validate();

    const tkd::LiveModelInfo info = tkd::resolveLiveModel(args.get("model"));
    const auto model = tkd::LiveModel::load(info, o.teacher);
    for (const auto &[name, p] : o.classThresholds) {
        (void)p;
        if (std::find(model->info().classes.begin(), model->info().classes.end(), name) == model->info().classes.end())
            throw tkd::Error("--class-threshold", "'" + name + "' is not a class of this model");
    }
    const bool json = args.has("json"), hops = args.has("hops");

    std::mutex out;
    int detections = 0;
    int64_t hopCount = 0;
    double studentMs = 0.0, teacherMs = 0.0, worstStudentMs = 0.0;
    int teacherRuns = 0;
    std::string error;
    tkd::LiveSession::Callbacks cb;
    const std::vector<std::string> &classes = model->info().classes;
    cb.onUpdate = [&](const tkd::LiveUpdate &u) {
        if (u.result.hop < 0)
            return;
        const tkd::StreamingResult &r = u.result;
        std::lock_guard<std::mutex> l(out);
        ++hopCount;
        studentMs += r.studentMs;
        worstStudentMs = std::max(worstStudentMs, r.studentMs);
        if (r.teacherFresh) {
            teacherMs += r.teacherMs;
            ++teacherRuns;
        }
        if (!hops)
            return;
        if (json) {
            nlohmann::json j = {{"type", "hop"}, {"time", r.timeSec}, {"top", classes[size_t(r.topClass)]},
                                {"score", r.topScore}, {"posteriors", r.smoothed}, {"student_ms", r.studentMs}};
            if (!r.student.weights.empty())
                j["student_attention_peak"] = r.student.peakSec();
            if (r.teacherFresh) {
                j["teacher_attention_peak"] = r.teacher.peakSec();
                j["teacher_ms"] = r.teacherMs;
            }
            std::cout << j.dump() << "\n";
        } else {
            std::cout << "  " << fixed(r.timeSec, 2) << " s  hop " << r.hop << "  " << classes[size_t(r.topClass)]
                      << " " << fixed(r.topScore, 2);
            if (!r.student.weights.empty())
                std::cout << "  student attention peak " << fixed(r.student.peakSec(), 2) << " s";
            if (r.teacherFresh)
                std::cout << "  teacher peak " << fixed(r.teacher.peakSec(), 2) << " s";
            std::cout << "\n";
        }
    };
    cb.onDetection = [&](const tkd::Detection &d) {
        std::lock_guard<std::mutex> l(out);
        ++detections;
        if (json) {
            std::cout << nlohmann::json{{"type", "detection"}, {"time", d.timeSec}, {"label", d.label},
                                        {"score", d.score}, {"window", {d.windowStartSec, d.timeSec}},
                                        {"attention_peak", d.peakSec}, {"wall_clock", wallClock()}}
                             .dump()
                      << std::endl;
        } else {
            std::cout << fixed(d.timeSec, 2) << " s  " << d.label << "  " << fixed(d.score, 2) << "  (window "
                      << fixed(d.windowStartSec, 2) << "-" << fixed(d.timeSec, 2) << " s"
                      << (d.peakSec >= 0 ? ", attention peak " + fixed(d.peakSec, 2) + " s" : std::string()) << ")"
                      << (useDevice ? "  at " + wallClock() : std::string()) << std::endl;
        }
    };
    cb.onError = [&](const std::string &e) {
        std::lock_guard<std::mutex> l(out);
        error = e;
    };

    tkd::LiveSession session(model, o, cb);
    auto describe = [&](const std::string &source) {
        if (json)
            return;
        std::cout << "model:    " << info.cell.name << " (" << model->parameterCount() << " parameters) from "
                  << info.runDir << "\n"
                  << "classes:  " << classes.size() << "; detections exclude _unknown_ and _silence_\n"
                  << "window:   " << fixed(session.windowSec(), 2) << " s, hop " << fixed(session.hopSec(), 2)
                  << " s, " << tkd::posteriorSmoothingName(o.smoothing) << " smoothing "
                  << fixed(o.smoothingSec, 2) << " s, threshold " << fixed(o.threshold, 2) << " for "
                  << fixed(o.minDurationSec, 2) << " s, refractory " << fixed(o.refractorySec, 2) << " s\n"
                  << "teacher:  "
                  << (model->hasTeacher() ? info.teacherKind + " (" + info.teacherCheckpoint + ")"
                                          : "none: " + model->info().teacherNote)
                  << "\n"
                  << "source:   " << source << "\n";
    };

    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    const auto start = std::chrono::steady_clock::now();
    double audioSec = 0.0;
    tkd::LiveStatus status;
    if (useFile) {
        const std::string path = args.get("file");
        session.startFile(path, args.has("real-time"));
        describe(path);
        while (session.isRunning() && !g_interrupted)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        session.stop();
        status = session.lastStatus();
        audioSec = status.streamSec;
    } else {
        tkd::CaptureOptions cap;
        const std::string name = args.get("device");
        cap.device = name == "default" ? std::string() : name;
        session.startDevice(cap);
        describe(session.lastStatus().source.empty() ? name : session.lastStatus().source);
        if (!json)
            std::cout << "listening" << (seconds > 0 ? " for " + fixed(seconds, 1) + " s" : std::string(" (Ctrl-C to stop)"))
                      << "...\n"
                      << std::flush;
        while (session.isRunning() && !g_interrupted) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (seconds > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= seconds)
                break;
        }
        session.stop();
        status = session.lastStatus();
        audioSec = status.streamSec;
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (json) {
        std::cout << nlohmann::json{{"type", "summary"},
                                    {"audio_seconds", audioSec},
                                    {"wall_seconds", wall},
                                    {"hops", hopCount},
                                    {"detections", detections},
                                    {"student_ms_mean", hopCount ? studentMs / double(hopCount) : 0.0},
                                    {"teacher_ms_mean", teacherRuns ? teacherMs / teacherRuns : 0.0},
                                    {"teacher_runs", teacherRuns},
                                    {"overflows", status.overflows},
                                    {"dropped_frames", status.droppedFrames},
                                    {"error", error}}
                         .dump()
                  << "\n";
    } else {
        std::cout << "summary:  " << fixed(audioSec, 2) << " s of audio in " << fixed(wall, 2) << " s ("
                  << fixed(wall > 0 ? audioSec / wall : 0.0, 1) << "x real time), " << hopCount << " hops, "
                  << detections << " detection(s); student " << fixed(hopCount ? studentMs / double(hopCount) : 0.0, 2)
                  << " ms/hop (worst " << fixed(worstStudentMs, 2) << ")";
        if (teacherRuns)
            std::cout << ", teacher " << fixed(teacherMs / teacherRuns, 2) << " ms x " << teacherRuns;
        if (useDevice)
            std::cout << "; overflows " << status.overflows << " (" << status.droppedFrames << " frames dropped)";
        std::cout << "\n";
    }
    if (!error.empty())
        throw tkd::Error("live", error); // already names the device or file
    if (g_interrupted && hopCount == 0)
        return 130;
    if (hopCount == 0)
        throw tkd::Error(useFile ? args.get("file") : args.get("device"),
                         "shorter than one analysis window (" + fixed(session.windowSec(), 2) + " s): nothing classified");
    return 0;
}

const tkd::cli::Registrar reg("live", "classify a microphone or file as a stream and print keyword detections", runLive);

} // namespace
