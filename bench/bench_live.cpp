// tkd-bench-links: tkd_studio_app
// Live inference benchmarks (not timed tests):
//  1. per-hop cost of each of the five students through StreamingClassifier on ONE core
//     (features + FeatureNorm + student + attention + smoothing), 1 s window, 0.1 s hop,
//     random weights (cost does not depend on the values); the tiny teacher likewise;
//  2. microphone-to-screen latency: measured worker and GUI parts through the real LiveView
//     (queued delivery, paint), plus the parts set by design (drain period, hop quantisation)
//     and the device's own input latency as PortAudio reports it;
//  3. CPU share of the Live view listening to silence in real time (the "idle" cost).
// Usage: bench_live [--run RUN_DIR] [--hops N] [--seconds S]
//   --run: a trained run for parts 2-3 (without it they are skipped).
#include "LiveView.h"

#include "core/audio/AudioFile.h"
#include "core/infer/LiveModel.h"
#include "core/infer/LiveModelImpl.h"
#include "core/infer/StreamingClassifier.h"
#include "core/models/StudentRegistry.h"
#include "core/models/Wav2Vec2Config.h"
#include "core/util/BlasThreads.h"
#include "widgets/LivePanel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLabel>
#include <QTemporaryDir>
#include <QTimer>

#include <portaudio.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace tkd;

namespace {

double cpuSeconds()
{
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
        + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Stats
{
    double median = 0, p95 = 0, mean = 0;
};
Stats stats(std::vector<double> v)
{
    Stats s;
    if (v.empty())
        return s;
    std::sort(v.begin(), v.end());
    s.median = v[v.size() / 2];
    s.p95 = v[std::min(v.size() - 1, size_t(0.95 * double(v.size())))];
    for (double x : v)
        s.mean += x / double(v.size());
    return s;
}

std::shared_ptr<LiveModel> randomModel(const std::string &student, bool teacher)
{
    auto impl = std::make_unique<LiveModel::Impl>();
    impl->info.features = FeatureConfig();
    impl->info.windowSec = 1.0;
    for (int i = 0; i < 12; ++i)
        impl->info.classes.push_back(
            i < 10 ? "k" + std::to_string(i) : (i == 10 ? "_unknown_" : "_silence_"));
    impl->student = StudentRegistry::create(student, 12, impl->info.features.featureDim());
    impl->branch = AttentionBranch(AttentionBranchOptions(impl->student.contextDim()));
    impl->branch->eval();
    if (teacher) {
        impl->teacher = Wav2Vec2Model(Wav2Vec2Config::tiny(12, 40));
        impl->teacherSpectral = true;
    }
    return LiveModel::fromImpl(std::move(impl));
}

// Per-hop cost through the streaming path: push one hop of noise at a time.
void benchModel(const std::string &name, bool teacher, int hops)
{
    StreamingOptions o;
    o.teacher = teacher;
    StreamingClassifier c(randomModel(name, teacher), o);
    std::mt19937 rng(1);
    std::normal_distribution<float> n(0.0f, 0.05f);
    std::vector<float> hop(size_t(c.hopSec() * kSampleRate)), warm(size_t(c.windowSamples()));
    for (auto &x : warm)
        x = n(rng);
    c.push(warm);
    for (int i = 0; i < 20; ++i) { // warm-up
        for (auto &x : hop)
            x = n(rng);
        c.push(hop);
    }
    std::vector<double> student, teacherMs, total;
    for (int i = 0; i < hops; ++i) {
        for (auto &x : hop)
            x = n(rng);
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = c.push(hop);
        total.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        for (const auto &x : r) {
            student.push_back(x.studentMs);
            if (x.teacherFresh)
                teacherMs.push_back(x.teacherMs);
        }
    }
    const Stats s = stats(student), t = stats(total);
    std::printf(
        "%-12s %9lld  student %6.3f ms median, %6.3f p95 | whole hop %6.3f ms median, %6.3f p95",
        name.c_str(), (long long)c.model().parameterCount(), s.median, s.p95, t.median, t.p95);
    if (teacher) {
        const Stats te = stats(teacherMs);
        std::printf(" | tiny teacher %6.2f ms median, %6.2f p95", te.median, te.p95);
    }
    std::printf("\n");
}

void waitMs(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM",
        qgetenv("QT_QPA_PLATFORM").isEmpty() ? QByteArray("offscreen")
                                             : qgetenv("QT_QPA_PLATFORM"));
    QApplication app(argc, argv);
    std::string run;
    int hops = 300;
    double seconds = 10.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--run")
            run = argv[i + 1];
        else if (a == "--hops")
            hops = std::atoi(argv[i + 1]);
        else if (a == "--seconds")
            seconds = std::atof(argv[i + 1]);
    }
    torch::set_num_threads(1); // one core, as the live worker runs
    setBlasThreads(1); // as tkd and tkd-studio do (OpenBLAS's pool busy-waits)
    std::printf(
        "== 1. per-hop inference, one thread, 1 s window (49 MFCC frames), 0.1 s hop, %d hops ==\n",
        hops);
    std::printf("%-12s %9s\n", "student", "params");
    for (const auto &name : StudentRegistry::names())
        benchModel(name, name == "tc-resnet8", hops);

    std::printf("\n== 2. microphone-to-screen latency ==\n");
    double deviceMs = -1;
    if (Pa_Initialize() == paNoError) {
        const PaDeviceIndex d = Pa_GetDefaultInputDevice();
        if (d != paNoDevice)
            deviceMs = 1000.0 * Pa_GetDeviceInfo(d)->defaultLowInputLatency;
        Pa_Terminate();
    }
    if (run.empty()) {
        std::printf("(skipped: give --run RUN_DIR)\n");
        return 0;
    }
    QTemporaryDir tmp;
    // Silence with a little noise (the idle case), long enough for the measurement.
    std::vector<float> quiet(size_t((seconds + 2.0) * kSampleRate));
    std::mt19937 rng(2);
    std::normal_distribution<float> n(0.0f, 0.002f);
    for (auto &x : quiet)
        x = n(rng);
    const std::string wav = tmp.filePath("quiet.wav").toStdString();
    writeWav(wav, quiet);

    LiveView view;
    view.resize(1300, 800);
    view.show();
    bool loaded = false;
    QObject::connect(&view, &LiveView::modelLoaded, [&] { loaded = true; });
    view.openModel(QString::fromStdString(run));
    for (int i = 0; i < 300 && !loaded; ++i)
        waitMs(100);
    if (!loaded) {
        std::printf("model did not load: %s\n", qPrintable(view.panel()->messageLabel()->text()));
        return 1;
    }
    std::vector<double> paintMs;
    auto timing = QObject::connect(&view, &LiveView::frameShown, [&] {
        QElapsedTimer t;
        t.start();
        view.panel()->repaint(); // what the next expose would cost, done now to time it
        paintMs.push_back(double(t.nsecsElapsed()) / 1e6);
    });
    waitMs(500);
    // Phase A: latency parts (with a timed repaint per frame).
    view.startFile(QString::fromStdString(wav), /*realTime=*/true);
    waitMs(int(std::min(seconds, 5.0) * 1000));
    view.stop();
    QObject::disconnect(timing);
    const Stats paint = stats(paintMs);
    const double delivery
        = view.meanDisplayLatencyMs(); // samples read -> frame handed to the panel
    std::printf("frames shown %lld\n", (long long)view.framesShown());
    if (deviceMs >= 0)
        std::printf(
            "device input latency (PortAudio default low, default input): %.1f ms\n", deviceMs);
    else
        std::printf("device input latency: no input device on this machine (typical ALSA default "
                    "low: ~10 ms)\n");
    std::printf("drain period 10 ms (mean wait 5 ms)\n");
    std::printf("hop quantisation: 0.1 s hop -> mean 50 ms, worst 100 ms until a window ends after "
                "the sound\n");
    std::printf(
        "worker + queued delivery (measured, includes features, student, teacher): %.2f ms mean\n",
        delivery);
    std::printf("panel repaint (measured): %.2f ms median, %.2f p95\n", paint.median, paint.p95);
    const double dev = deviceMs >= 0 ? deviceMs : 10.0;
    std::printf("estimate: mean %.1f ms, worst %.1f ms (device %.1f + drain + hop + "
                "worker/delivery + paint)\n",
        dev + 5.0 + 50.0 + delivery + paint.median, dev + 10.0 + 100.0 + delivery + paint.p95, dev);

    // Phase B: the idle cost, with the studio painting as it normally does.
    std::printf("\n== 3. CPU share of the Live view listening to near-silence in real time ==\n");
    waitMs(300);
    const double cpu0 = cpuSeconds();
    QElapsedTimer wall;
    wall.start();
    view.startFile(QString::fromStdString(wav), /*realTime=*/true);
    waitMs(int(seconds * 1000));
    const double cpu = cpuSeconds() - cpu0, wallSec = double(wall.elapsed()) / 1000.0;
    view.stop();
    std::printf("process CPU %.2f s over %.2f s wall = %.1f %% of one core (worker: features, "
                "student, tiny "
                "teacher every hop it can; GUI: spectrogram, bars, curves at 10 frames/s)\n",
        cpu, wallSec, 100.0 * cpu / wallSec);
    return 0;
}
