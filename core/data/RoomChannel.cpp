#include "core/data/RoomChannel.h"

#include "core/audio/AudioFile.h"
#include "core/util/Error.h"
#include "core/util/Format.h"
#include "core/util/Rng.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace tkd {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kTiltPivotHz = 1000.0;
constexpr double kMaxIrSec = 1.2;

// A second-order section (RBJ's cookbook), run in place in double precision.
struct Biquad
{
    double b0, b1, b2, a1, a2;
    static Biquad pass(bool high, double hz)
    {
        const double w = 2.0 * kPi * hz / kSampleRate, c = std::cos(w);
        const double alpha = std::sin(w) / (2.0 * std::sqrt(0.5)); // Butterworth Q
        const double a0 = 1.0 + alpha;
        const double b = high ? (1.0 + c) / 2.0 : (1.0 - c) / 2.0;
        return { b / a0, (high ? -2.0 : 2.0) * b / a0, b / a0, -2.0 * c / a0, (1.0 - alpha) / a0 };
    }
    void run(std::vector<float> &x) const
    {
        double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
        for (float &v : x) {
            const double y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
            x2 = x1;
            x1 = v;
            y2 = y1;
            y1 = y;
            v = float(y);
        }
    }
};

} // namespace

const std::vector<RoomChannelConfig::Param> &RoomChannelConfig::declared()
{
    using C = RoomChannelConfig;
    static const std::vector<Param> table = {
        { "reverb_share", &C::reverbShare, nullptr, 0.0, 1.0,
            "share of clips spoken in a synthetic reverberant room (0: none)" },
        { "rt60_sec", &C::rt60Min, &C::rt60Max, 0.05, 3.0,
            "[lo, hi]: the room's reverberation time RT60 in seconds" },
        { "drr_db", &C::drrMin, &C::drrMax, -10.0, 30.0,
            "[lo, hi]: direct-to-reverberant energy ratio in dB (low: far from the microphone)" },
        { "channel_share", &C::channelShare, nullptr, 0.0, 1.0,
            "share of clips through a coloured microphone / channel (0: none)" },
        { "tilt_db", &C::tiltMin, &C::tiltMax, -20.0, 20.0,
            "[lo, hi]: channel's spectral tilt, highs re lows around 1 kHz (dB)" },
        { "highpass_hz", &C::highpassMin, &C::highpassMax, 10.0, 1000.0,
            "[lo, hi]: channel's low band edge (Hz)" },
        { "lowpass_hz", &C::lowpassMin, &C::lowpassMax, 1000.0, 8000.0,
            "[lo, hi]: channel's high band edge (Hz; 3400 is telephone band, 8000 none)" },
        { "clip_share", &C::clipShare, nullptr, 0.0, 1.0,
            "share of clips driven into clipping (0: none)" },
        { "drive_db", &C::driveMin, &C::driveMax, 0.0, 30.0,
            "[lo, hi]: how far a clipped clip's peaks go past the clip level (dB)" },
        { "gain_db", &C::gainMin, &C::gainMax, -60.0, 40.0,
            "[lo, hi]: input gain on the whole clip in dB (samples past full scale clip)" },
    };
    return table;
}

bool RoomChannelConfig::neutral() const
{
    return reverbShare == 0.0 && channelShare == 0.0 && clipShare == 0.0 && gainMin == 0.0
        && gainMax == 0.0;
}

void RoomChannelConfig::validate() const
{
    for (const Param &p : declared()) {
        const std::string key = std::string("noise.") + p.name;
        const double lo = this->*p.lo, hi = p.hi ? this->*p.hi : lo;
        if (!std::isfinite(lo) || !std::isfinite(hi) || lo < p.minValue || hi > p.maxValue)
            throw Error(key,
                "must be within [" + formatNumber(p.minValue) + ", " + formatNumber(p.maxValue)
                    + "], got "
                    + (p.hi ? "[" + formatNumber(lo) + ", " + formatNumber(hi) + "]"
                            : formatNumber(lo)));
        if (lo > hi)
            throw Error(
                key, "range is reversed (" + formatNumber(lo) + " > " + formatNumber(hi) + ")");
    }
}

void RoomChannelConfig::toJson(nlohmann::json &j) const
{
    if (neutral()) // absent, so the noisy sets of earlier versions keep their hash
        return;
    for (const Param &p : declared())
        j[p.name]
            = p.hi ? nlohmann::json { this->*p.lo, this->*p.hi } : nlohmann::json(this->*p.lo);
}

bool RoomChannelConfig::operator==(const RoomChannelConfig &o) const
{
    for (const Param &p : declared())
        if (this->*p.lo != o.*p.lo || (p.hi && this->*p.hi != o.*p.hi))
            return false;
    return true;
}

RoomChannelDraw RoomChannel::draw(Rng &rng) const
{
    const RoomChannelConfig &c = m_config;
    RoomChannelDraw d;
    const bool room = rng.uniform() < c.reverbShare;
    const double rt60 = rng.uniform(c.rt60Min, c.rt60Max);
    const double drr = rng.uniform(c.drrMin, c.drrMax);
    if (room) {
        d.rt60 = rt60;
        d.drrDb = drr;
    }
    d.channel = rng.uniform() < c.channelShare;
    const double tilt = rng.uniform(c.tiltMin, c.tiltMax);
    const double hp = rng.uniform(c.highpassMin, c.highpassMax);
    const double lp = rng.uniform(c.lowpassMin, c.lowpassMax);
    if (d.channel) {
        d.tiltDb = tilt;
        d.highpassHz = hp;
        d.lowpassHz = lp;
    }
    const bool clipped = rng.uniform() < c.clipShare;
    const double drive = rng.uniform(c.driveMin, c.driveMax);
    if (clipped)
        d.driveDb = std::max(drive, 1e-3);
    d.gainDb = rng.uniform(c.gainMin, c.gainMax);
    return d;
}

std::vector<float> RoomChannel::impulseResponse(const RoomChannelDraw &d, Rng &rng)
{
    const size_t n = size_t(std::lround(std::min(kMaxIrSec, 1.2 * d.rt60) * kSampleRate)) + 1;
    std::vector<float> ir(n, 0.0f);
    // Diffuse tail: noise under an exponential envelope (-60 dB at RT60) that starts after a
    // pre-delay, darkened by a one-pole low-pass (air and wall absorption).
    const double predelay = rng.uniform(0.002, 0.015);
    const double decay = 6.907755 / d.rt60; // ln(1000): amplitude falls 60 dB in rt60
    const double cutoff = rng.uniform(3000.0, 7000.0);
    const double a = std::exp(-2.0 * kPi * cutoff / kSampleRate);
    double lp = 0.0;
    for (size_t k = size_t(predelay * kSampleRate); k < n; ++k) {
        const double t = double(k) / kSampleRate;
        lp = (1.0 - a) * rng.normal() + a * lp;
        ir[k] = float(lp * std::exp(-decay * (t - predelay)));
    }
    // A few early reflections off near walls.
    const int reflections = 4 + int(rng.below(6));
    for (int r = 0; r < reflections; ++r) {
        const double t = rng.uniform(0.003, 0.040);
        const size_t k = std::min(n - 1, size_t(t * kSampleRate));
        ir[k] += float(
            (rng.uniform() < 0.5 ? -1.0 : 1.0) * rng.uniform(0.2, 0.6) * std::exp(-decay * t));
    }
    // Scale the reverberant part to the drawn direct-to-reverberant ratio; the direct path is 1.
    double e = 0.0;
    for (size_t k = 1; k < n; ++k)
        e += double(ir[k]) * ir[k];
    const double g = e > 0.0 ? std::sqrt(std::pow(10.0, -d.drrDb / 10.0) / e) : 0.0;
    for (size_t k = 1; k < n; ++k)
        ir[k] = float(ir[k] * g);
    ir[0] = 1.0f;
    return ir;
}

void RoomChannel::reverberate(std::vector<float> &speech, const RoomChannelDraw &d, Rng &rng)
{
    if (d.rt60 <= 0.0 || speech.empty())
        return;
    const std::vector<float> ir = impulseResponse(d, rng);
    // FFT convolution: a direct one would be ~2e9 multiply-adds for an 8 s clip.
    int64_t nfft = 1;
    while (nfft < int64_t(speech.size() + ir.size()))
        nfft <<= 1;
    torch::NoGradGuard noGrad;
    const auto x = torch::from_blob(speech.data(), { int64_t(speech.size()) }, torch::kFloat)
                       .to(torch::kDouble);
    const auto h
        = torch::from_blob(const_cast<float *>(ir.data()), { int64_t(ir.size()) }, torch::kFloat)
              .to(torch::kDouble);
    const auto y = torch::fft::irfft(torch::fft::rfft(x, nfft) * torch::fft::rfft(h, nfft), nfft)
                       .narrow(0, 0, int64_t(speech.size()))
                       .to(torch::kFloat)
                       .contiguous();
    std::copy(y.data_ptr<float>(), y.data_ptr<float>() + speech.size(), speech.begin());
}

void RoomChannel::colour(std::vector<float> &mix, const RoomChannelDraw &d)
{
    if (d.channel) {
        if (d.highpassHz > 0.0)
            Biquad::pass(true, d.highpassHz).run(mix);
        if (d.lowpassHz < 0.49 * kSampleRate)
            Biquad::pass(false, d.lowpassHz).run(mix);
        // Tilt: lows and highs split at 1 kHz by a one-pole low-pass, weighted apart by tiltDb.
        const double a = std::exp(-2.0 * kPi * kTiltPivotHz / kSampleRate);
        const double gl = std::pow(10.0, -d.tiltDb / 40.0), gh = std::pow(10.0, d.tiltDb / 40.0);
        double lp = 0.0;
        for (float &v : mix) {
            lp = (1.0 - a) * v + a * lp;
            v = float(lp * gl + (v - lp) * gh);
        }
    }
    const float gain = float(std::pow(10.0, d.gainDb / 20.0));
    float peak = 0.0f;
    for (float &v : mix) {
        v *= gain;
        peak = std::max(peak, std::fabs(v));
    }
    // Clipping: the peaks driven driveDb past a clip level, as an overdriven preamp would; then
    // the converter's full scale.
    const float level = d.driveDb > 0.0 ? float(peak / std::pow(10.0, d.driveDb / 20.0)) : 1.0f;
    const float limit = std::min(level, 1.0f);
    for (float &v : mix)
        v = std::clamp(v, -limit, limit);
}

} // namespace tkd
