#pragma once

// The room and the microphone of a noisy clip (issue 13's domain randomisation): synthetic room
// reverberation on the speech, then a coloured channel, an input gain and clipping on the whole
// mix, as a recording chain would add them. Each is a declared parameter of the noisy
// construction (experiment keys data.noisy.<name>) whose default leaves the clip untouched.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tkd {

class Rng;

struct RoomChannelConfig
{
    double reverbShare = 0.0; // share of clips spoken in a reverberant room
    double rt60Min = 0.2, rt60Max = 0.8; // reverberation time (s), per clip
    double drrMin = 0.0, drrMax = 12.0; // direct-to-reverberant energy ratio (dB)
    double channelShare = 0.0; // share of clips through a coloured microphone / channel
    double tiltMin = -6.0, tiltMax = 6.0; // spectral tilt, highs re lows (dB)
    double highpassMin = 20.0, highpassMax = 300.0; // channel's low band edge (Hz)
    double lowpassMin = 3400.0, lowpassMax = 8000.0; // high band edge (Hz; 3400: telephone)
    double clipShare = 0.0; // share of clips driven into clipping
    double driveMin = 1.0, driveMax = 12.0; // how far past the clip level their peaks go (dB)
    double gainMin = 0.0, gainMax = 0.0; // input gain on the whole mix (dB); past +-1 it clips

    struct Param
    {
        const char *name; // key under data.noisy
        double RoomChannelConfig::*lo;
        double RoomChannelConfig::*hi; // nullptr: a single value (a share)
        double minValue, maxValue;
        const char *help;
    };
    // The one table of these parameters: YAML keys, schema, validation and hashing all read it.
    static const std::vector<Param> &declared();

    bool neutral() const; // no clip is changed
    void validate() const; // throws tkd::Error("noise.<name>", reason)
    void toJson(nlohmann::json &j) const; // adds the parameters (nothing when neutral)
    bool operator==(const RoomChannelConfig &o) const;
};

// What was applied to one clip (the noisy manifest records it).
struct RoomChannelDraw
{
    double rt60 = 0.0; // 0: no reverberation
    double drrDb = 0.0;
    bool channel = false;
    double tiltDb = 0.0, highpassHz = 0.0, lowpassHz = 0.0;
    double driveDb = 0.0; // 0: not clipped
    double gainDb = 0.0;
};

class RoomChannel
{
public:
    explicit RoomChannel(RoomChannelConfig config)
        : m_config(std::move(config))
    { }
    const RoomChannelConfig &config() const { return m_config; }

    // Draws one clip's room and channel (always the same number of draws from rng).
    RoomChannelDraw draw(Rng &rng) const;

    // The room: speech convolved with a synthetic impulse response (direct path, early
    // reflections, an exponentially decaying diffuse tail), truncated to its length.
    static void reverberate(std::vector<float> &speech, const RoomChannelDraw &d, Rng &rng);
    // The channel, gain and clipping on the whole mix.
    static void colour(std::vector<float> &mix, const RoomChannelDraw &d);

    // The impulse response alone (tests).
    static std::vector<float> impulseResponse(const RoomChannelDraw &d, Rng &rng);

private:
    RoomChannelConfig m_config;
};

} // namespace tkd
