// `tkd devices`: the audio devices PortAudio sees (what the live view's microphone picker
// offers), and `tkd devices listen`: a short capture that shows whether a microphone delivers
// audio, at which rate, how loud, and whether anything was lost.
#include "Cli.h"

#include "core/audio/CaptureStream.h"
#include "core/audio/PortAudioSession.h"
#include "core/util/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <thread>

namespace {

std::string defaultMarks(const tkd::AudioDeviceInfo &d)
{
    std::string marks;
    if (d.isDefaultInput)
        marks = "input";
    if (d.isDefaultOutput)
        marks += marks.empty() ? "output" : ", output";
    return marks;
}

struct ListOptions
{
    bool inputs = false;
    bool outputs = false;
    bool json = false;
};

int runList(const ListOptions &o)
{
    const bool inputs = o.inputs, outputs = o.outputs;

    std::vector<tkd::AudioDeviceInfo> devices;
    for (const auto &d : tkd::listAudioDevices())
        if ((!inputs || d.maxInputChannels > 0) && (!outputs || d.maxOutputChannels > 0))
            devices.push_back(d);

    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &d : devices)
            out.push_back({ { "index", d.index }, { "name", d.name }, { "host_api", d.hostApi },
                { "input_channels", d.maxInputChannels },
                { "output_channels", d.maxOutputChannels },
                { "default_sample_rate", d.defaultSampleRate },
                { "default_input", d.isDefaultInput }, { "default_output", d.isDefaultOutput } });
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (devices.empty()) {
        std::cout << "no audio devices found" << (inputs || outputs ? " matching the filter" : "")
                  << " (no sound card, or no permission for /dev/snd?)\n";
        return 0;
    }
    size_t nameWidth = 4, apiWidth = 8;
    for (const auto &d : devices) {
        nameWidth = std::max(nameWidth, d.name.size());
        apiWidth = std::max(apiWidth, d.hostApi.size());
    }
    nameWidth = std::min<size_t>(nameWidth, 48);
    auto pad = [](std::string s, size_t w) {
        if (s.size() > w)
            s = s.substr(0, w - 1) + "~";
        return s + std::string(w - s.size() + 2, ' ');
    };
    std::cout << pad("#", 3) << pad("name", nameWidth) << pad("host API", apiWidth) << pad("in", 4)
              << pad("out", 4) << pad("rate", 8) << "default\n";
    for (const auto &d : devices) {
        char rate[32];
        std::snprintf(rate, sizeof rate, "%g", d.defaultSampleRate);
        std::cout << pad(std::to_string(d.index), 3) << pad(d.name, nameWidth)
                  << pad(d.hostApi, apiWidth) << pad(std::to_string(d.maxInputChannels), 4)
                  << pad(std::to_string(d.maxOutputChannels), 4) << pad(rate, 8) << defaultMarks(d)
                  << "\n";
    }
    return 0;
}

std::string dbfs(float peak)
{
    char buf[32];
    if (peak <= 0.0f)
        return "  -inf dBFS";
    std::snprintf(buf, sizeof buf, "%6.1f dBFS", 20.0 * std::log10(double(peak)));
    return buf;
}

struct ListenOptions
{
    std::string device;
    double seconds = 3.0;
    double rate = 16000.0;
    double ring = 4.0;
};

int runListen(const ListenOptions &o)
{
    const double seconds = o.seconds;

    tkd::CaptureOptions opt;
    opt.device = o.device;
    opt.preferredRate = o.rate;
    opt.ringSeconds = o.ring;
    tkd::CaptureStream capture;
    capture.start(opt);
    tkd::CaptureStats s = capture.stats();
    std::cout << "listening to " << s.device << " at " << s.rate << " Hz, " << s.channels
              << (s.channels == 1 ? " channel" : " channels (mixed down)") << " for " << seconds
              << " s\n";

    std::vector<float> block;
    uint64_t received = 0;
    // stats() hands out the peak since its previous call: keep the one taken above.
    float overallPeak = s.peak, intervalPeak = s.peak;
    const auto start = std::chrono::steady_clock::now();
    auto nextPrint = start;
    bool failed = false;
    for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        received += capture.read(block);
        s = capture.stats();
        intervalPeak = std::max(intervalPeak, s.peak);
        overallPeak = std::max(overallPeak, s.peak);
        const auto now = std::chrono::steady_clock::now();
        const tkd::CaptureHealth h = capture.health();
        if (h.state == tkd::CaptureHealth::State::Stopped) {
            std::cout << "\n" << h.message << "\n";
            failed = true;
            break;
        }
        if (now >= nextPrint) {
            const int bars = intervalPeak > 0
                ? std::clamp(int((60.0 + 20.0 * std::log10(intervalPeak)) / 2), 0, 30)
                : 0;
            std::cout << "  " << dbfs(intervalPeak) << " |" << std::string(size_t(bars), '#')
                      << std::string(size_t(30 - bars), ' ') << "| "
                      << (h.state == tkd::CaptureHealth::State::Stalled ? "STALLED" : "") << "\n";
            intervalPeak = 0.0f;
            nextPrint = now + std::chrono::milliseconds(250);
        }
        if (std::chrono::duration<double>(now - start).count() >= seconds)
            break;
    }
    capture.stop();
    received += capture.read(block);
    s = capture.stats();
    overallPeak = std::max(overallPeak, s.peak);
    std::cout << "device:          " << s.device << " (" << s.rate << " Hz, " << s.channels
              << " ch)\n"
              << "frames captured: " << s.framesCaptured << " in " << s.callbacks << " callbacks\n"
              << "16 kHz samples:  " << received << "\n"
              << "peak:            " << dbfs(overallPeak) << "\n"
              << "ring overflows:  " << s.overflows << " (" << s.droppedFrames
              << " frames dropped)\n"
              << "input overflows: " << s.inputOverflows << " (reported by the driver)\n";
    if (s.framesCaptured == 0) {
        std::cout << "no audio arrived from " << s.device << "\n";
        failed = true;
    }
    return failed ? 1 : 0;
}

const tkd::cli::Registrar regList("devices",
    "list audio devices (host API, channels, rate, defaults)",
    "Lists the audio devices PortAudio sees: index, name, host API, input and output channels, "
    "default "
    "sample rate, and which are the defaults.",
    [](CLI::App &app) {
        auto o = std::make_shared<ListOptions>();
        app.add_flag("--inputs", o->inputs, "only devices that can capture (microphones)");
        app.add_flag("--outputs", o->outputs, "only devices that can play");
        app.add_flag("--json", o->json, "print a JSON array instead of a table");
        return [o] { return runList(*o); };
    });
const tkd::cli::Registrar regListen("devices listen",
    "capture from a microphone and show its level",
    "Captures from a microphone for a few seconds, printing the level, and reports the negotiated "
    "rate, "
    "the samples received (16 kHz mono, as the live view gets them), overflows and the stream's "
    "health. "
    "Exits 1 if the device delivered nothing or stopped.",
    [](CLI::App &app) {
        auto o = std::make_shared<ListenOptions>();
        app.add_option(
            "--device", o->device, "device name or part of it (default: the default input)");
        app.add_option("--seconds", o->seconds, "how long to listen")
            ->capture_default_str()
            ->check(CLI::Range(0.001, 3600.0));
        app.add_option("--rate", o->rate, "preferred device rate (the device default if refused)")
            ->capture_default_str()
            ->check(CLI::PositiveNumber);
        app.add_option("--ring", o->ring, "ring buffer length in seconds")
            ->capture_default_str()
            ->check(CLI::PositiveNumber);
        return [o] { return runListen(*o); };
    });

} // namespace
