#include "core/audio/PortAudioSession.h"

#include "core/util/Error.h"

#include <portaudio.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <fcntl.h>
#include <unistd.h>

namespace tkd {

namespace {
std::mutex g_mutex;
int g_refs = 0;

// PortAudio's ALSA and JACK probing writes ~100 lines of noise to stderr ("Unknown PCM
// cards.pcm.rear", "Cannot connect to server socket") that say nothing about our devices. Muted
// for the probe unless TKD_AUDIO_DEBUG is set; errors still come back as PaError.
PaError quietInitialize()
{
    if (std::getenv("TKD_AUDIO_DEBUG"))
        return Pa_Initialize();
    std::fflush(stderr);
    const int saved = dup(STDERR_FILENO);
    const int null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0)
        dup2(null, STDERR_FILENO);
    const PaError err = Pa_Initialize();
    std::fflush(stderr);
    if (saved >= 0 && null >= 0)
        dup2(saved, STDERR_FILENO);
    if (null >= 0)
        close(null);
    if (saved >= 0)
        close(saved);
    return err;
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}
} // namespace

PortAudioSession::PortAudioSession()
{
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_refs == 0) {
        const PaError err = quietInitialize();
        if (err != paNoError)
            throw Error(
                "audio", std::string("cannot initialise PortAudio: ") + Pa_GetErrorText(err));
    }
    ++g_refs;
}

PortAudioSession::~PortAudioSession()
{
    std::lock_guard<std::mutex> lock(g_mutex);
    if (--g_refs == 0)
        Pa_Terminate();
}

std::vector<AudioDeviceInfo> listAudioDevices()
{
    PortAudioSession session;
    std::vector<AudioDeviceInfo> out;
    const int n = Pa_GetDeviceCount();
    const PaDeviceIndex defIn = Pa_GetDefaultInputDevice(), defOut = Pa_GetDefaultOutputDevice();
    for (int i = 0; i < n; ++i) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        if (!d)
            continue;
        AudioDeviceInfo info;
        info.index = i;
        info.name = d->name ? d->name : "";
        if (const PaHostApiInfo *h = Pa_GetHostApiInfo(d->hostApi))
            info.hostApi = h->name ? h->name : "";
        info.maxInputChannels = d->maxInputChannels;
        info.maxOutputChannels = d->maxOutputChannels;
        info.defaultSampleRate = d->defaultSampleRate;
        info.isDefaultInput = i == defIn;
        info.isDefaultOutput = i == defOut;
        out.push_back(info);
    }
    return out;
}

AudioDeviceInfo findAudioDevice(const std::string &name, bool forOutput)
{
    const auto devices = listAudioDevices();
    auto usable = [forOutput](const AudioDeviceInfo &d) {
        return forOutput ? d.maxOutputChannels > 0 : d.maxInputChannels > 0;
    };
    const char *what = forOutput ? "output" : "input";
    if (name.empty()) {
        for (const auto &d : devices)
            if (usable(d) && (forOutput ? d.isDefaultOutput : d.isDefaultInput))
                return d;
        for (const auto &d : devices)
            if (usable(d))
                return d;
        throw Error("audio device",
            std::string("no ") + what + " device found (PortAudio sees "
                + std::to_string(devices.size()) + " devices)");
    }
    for (const auto &d : devices)
        if (usable(d) && d.name == name)
            return d;
    for (const auto &d : devices)
        if (usable(d) && lower(d.name).find(lower(name)) != std::string::npos)
            return d;
    std::string known;
    for (const auto &d : devices)
        if (usable(d))
            known += (known.empty() ? "" : ", ") + d.name;
    throw Error(name,
        std::string("no such ") + what + " device"
            + (known.empty() ? " (none available)" : " (available: " + known + ")"));
}

} // namespace tkd
