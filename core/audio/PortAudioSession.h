#pragma once

#include <string>
#include <vector>

namespace tkd {

// PortAudio must be initialised before any call and terminated once per initialisation; this
// reference-counted guard lets the player, the capture stream and device listings share it.
class PortAudioSession
{
public:
    PortAudioSession(); // throws tkd::Error("audio", reason) if PortAudio cannot start
    ~PortAudioSession();
    PortAudioSession(const PortAudioSession &) = delete;
    PortAudioSession &operator=(const PortAudioSession &) = delete;
};

struct AudioDeviceInfo
{
    int index = -1;
    std::string name;
    std::string hostApi;
    int maxInputChannels = 0;
    int maxOutputChannels = 0;
    double defaultSampleRate = 0.0;
    bool isDefaultInput = false;
    bool isDefaultOutput = false;
};

// Every device PortAudio sees right now (re-initialising so hot-plugged devices show up).
std::vector<AudioDeviceInfo> listAudioDevices();

// Finds a device by exact name, else by case-insensitive substring; an empty name picks the
// default output (or input). Throws tkd::Error(name or "audio device", reason) listing what exists.
AudioDeviceInfo findAudioDevice(const std::string &name, bool forOutput);

} // namespace tkd
