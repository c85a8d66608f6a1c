#include "core/data/FliteVoices.h"

#include "core/util/Error.h"

#include <map>

extern "C" {
#include <flite/flite.h>
#include <flite/flite_version.h>
cst_voice *register_cmu_us_kal(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);
}

namespace tkd::corpus {

const std::vector<std::string> &fliteVoices()
{
    static const std::vector<std::string> v = { "kal", "kal16", "awb", "rms", "slt" };
    return v;
}

namespace {

struct LoadedVoice
{
    cst_voice *voice = nullptr;
    bool diphone = false; // pitch through intonation targets, not the clustergen F0 track
    float f0Mean = 0.0f, f0Stddev = 0.0f;
};

// One registration per process (the synthesis children each register their own).
LoadedVoice &loadedVoice(const std::string &name)
{
    static std::map<std::string, LoadedVoice> voices;
    auto it = voices.find(name);
    if (it != voices.end())
        return it->second;
    static const bool initialised = [] {
        flite_init();
        return true;
    }();
    (void)initialised;
    LoadedVoice v;
    if (name == "kal")
        v.voice = register_cmu_us_kal(nullptr);
    else if (name == "kal16")
        v.voice = register_cmu_us_kal16(nullptr);
    else if (name == "awb")
        v.voice = register_cmu_us_awb(nullptr);
    else if (name == "rms")
        v.voice = register_cmu_us_rms(nullptr);
    else if (name == "slt")
        v.voice = register_cmu_us_slt(nullptr);
    if (!v.voice)
        throw Error("flite voice '" + name + "'", "is not one of flite's built-in voices");
    v.diphone = name == "kal" || name == "kal16";
    v.f0Mean = get_param_float(v.voice->features, "int_f0_target_mean", 100.0f);
    v.f0Stddev = get_param_float(v.voice->features, "int_f0_target_stddev", 11.0f);
    return voices.emplace(name, v).first->second;
}

} // namespace

FliteWave fliteWord(
    const std::string &voice, const std::string &word, double durationStretch, double f0Factor)
{
    LoadedVoice &v = loadedVoice(voice);
    feat_set_float(v.voice->features, "duration_stretch", float(durationStretch));
    if (v.diphone) {
        feat_set_float(v.voice->features, "int_f0_target_mean", float(v.f0Mean * f0Factor));
        feat_set_float(v.voice->features, "int_f0_target_stddev", float(v.f0Stddev * f0Factor));
    } else {
        feat_set_float(v.voice->features, "f0_shift", float(f0Factor));
    }
    cst_wave *w = flite_text_to_wave(word.c_str(), v.voice);
    if (!w || w->num_samples <= 0) {
        if (w)
            delete_wave(w);
        throw Error("flite", "synthesis failed for '" + word + "' with voice " + voice);
    }
    FliteWave out;
    out.sampleRate = w->sample_rate;
    out.samples.resize(size_t(w->num_samples));
    for (int i = 0; i < w->num_samples; ++i)
        out.samples[size_t(i)] = float(w->samples[i]) / 32768.0f;
    delete_wave(w);
    return out;
}

std::string fliteVersion()
{
    return std::string("flite ") + FLITE_PROJECT_VERSION;
}

} // namespace tkd::corpus
