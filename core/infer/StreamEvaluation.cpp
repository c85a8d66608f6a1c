#include "core/infer/StreamEvaluation.h"

#include "core/audio/AudioFile.h"
#include "core/data/Dataset.h"
#include "core/data/NoiseGenerator.h"
#include "core/infer/LiveModel.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

namespace tkd {

namespace {

constexpr int kRate = 16000;

bool neverDetected(const std::string &name)
{
    return !name.empty() && name[0] == '_';
}

struct LoadedClip
{
    std::vector<float> samples;
    double onsetSec = 0.0, offsetSec = 0.0; // speech inside the clip
};

LoadedClip loadClip(const ClipRef &c)
{
    LoadedClip out;
    std::vector<float> all = loadAudio(c.path);
    size_t a = size_t(std::max(0.0, c.startSec) * kRate);
    size_t b = c.durationSec > 0 ? a + size_t(c.durationSec * kRate) : all.size();
    a = std::min(a, all.size());
    b = std::min(std::max(a, b), all.size());
    out.samples.assign(all.begin() + std::ptrdiff_t(a), all.begin() + std::ptrdiff_t(b));
    const double len = double(out.samples.size()) / kRate;
    out.onsetSec = c.speechOnsetSec >= 0 ? std::min(c.speechOnsetSec, len) : 0.0;
    out.offsetSec = c.speechOffsetSec > out.onsetSec ? std::min(c.speechOffsetSec, len) : len;
    // Level: the speech part at -20 dBFS RMS, so the SNR means the same for every clip.
    const size_t s0 = size_t(out.onsetSec * kRate),
                 s1 = std::max(s0 + 1, size_t(out.offsetSec * kRate));
    double e = 0.0;
    for (size_t i = s0; i < std::min(s1, out.samples.size()); ++i)
        e += double(out.samples[i]) * out.samples[i];
    const double rms
        = std::sqrt(e / double(std::max<size_t>(1, std::min(s1, out.samples.size()) - s0)));
    if (rms > 1e-8)
        for (auto &x : out.samples)
            x = float(x * 0.1 / rms);
    return out;
}

// The detection rule of StreamingClassifier::detect, replayed on recorded smoothed posteriors.
struct Fired
{
    int classIndex;
    double timeSec;
};

std::vector<Fired> replayDetections(const std::vector<float> &smoothed,
    const std::vector<double> &times, size_t classes, const std::vector<std::string> &names,
    double threshold, const StreamingOptions &o, double hopSec)
{
    std::vector<Fired> out;
    const int minHops = std::max(1, int(std::llround(o.minDurationSec / hopSec)));
    std::vector<int> above(classes, 0);
    std::vector<bool> armed(classes, true);
    double last = -std::numeric_limits<double>::infinity();
    for (size_t h = 0; h < times.size(); ++h) {
        const float *p = smoothed.data() + h * classes;
        int best = -1;
        for (size_t c = 0; c < classes; ++c) {
            if (p[c] >= threshold) {
                ++above[c];
            } else {
                above[c] = 0;
                armed[c] = true;
            }
            if (neverDetected(names[c]) || !armed[c] || above[c] < minHops)
                continue;
            if (best < 0 || p[c] > p[size_t(best)])
                best = int(c);
        }
        if (best < 0 || times[h] - last < o.refractorySec - 1e-9)
            continue;
        last = times[h];
        armed[size_t(best)] = false;
        out.push_back({ best, times[h] });
    }
    return out;
}

struct Scored
{
    DetPoint pooled;
    std::map<int, DetPoint> perClass;
};

Scored score(const std::vector<Fired> &fired, const std::vector<StreamKeyword> &keywords,
    double windowSec, double toleranceSec, double hours)
{
    Scored s;
    std::vector<bool> hit(keywords.size(), false);
    for (const auto &k : keywords)
        s.perClass[k.classIndex];
    for (const auto &d : fired) {
        // Keywords of this class whose midpoint lies in [t - W - tol, t].
        int match = -1;
        bool duplicate = false;
        double bestDistance = std::numeric_limits<double>::infinity();
        const auto first = std::lower_bound(keywords.begin(), keywords.end(),
            d.timeSec - windowSec - toleranceSec - 10.0,
            [](const StreamKeyword &k, double t) { return k.offsetSec < t; });
        for (auto it = first; it != keywords.end() && it->onsetSec <= d.timeSec; ++it) {
            const double mid = 0.5 * (it->onsetSec + it->offsetSec);
            if (it->classIndex != d.classIndex || mid > d.timeSec
                || mid < d.timeSec - windowSec - toleranceSec)
                continue;
            const size_t i = size_t(it - keywords.begin());
            if (hit[i]) {
                duplicate = true;
                continue;
            }
            const double distance = d.timeSec - mid;
            if (distance < bestDistance) {
                bestDistance = distance;
                match = int(i);
            }
        }
        if (match >= 0) {
            hit[size_t(match)] = true;
            ++s.pooled.hits;
            ++s.perClass[d.classIndex].hits;
        } else if (!duplicate) {
            ++s.pooled.falseAccepts;
            ++s.perClass[d.classIndex].falseAccepts;
        }
    }
    std::map<int, int64_t> count;
    for (size_t i = 0; i < keywords.size(); ++i) {
        ++count[keywords[i].classIndex];
        if (!hit[i]) {
            ++s.pooled.misses;
            ++s.perClass[keywords[i].classIndex].misses;
        }
    }
    auto finish = [hours](DetPoint &p, int64_t n) {
        p.faPerHour = hours > 0 ? double(p.falseAccepts) / hours : 0.0;
        p.missRate = n > 0 ? double(p.misses) / double(n) : 0.0;
    };
    finish(s.pooled, int64_t(keywords.size()));
    for (auto &[c, p] : s.perClass)
        finish(p, count[c]);
    return s;
}

nlohmann::json pointJson(const DetPoint &p)
{
    return { { "threshold", p.threshold }, { "fa_per_hour", p.faPerHour },
        { "miss_rate", p.missRate }, { "false_accepts", p.falseAccepts }, { "misses", p.misses },
        { "hits", p.hits } };
}

DetPoint pointFromJson(const nlohmann::json &j)
{
    DetPoint p;
    p.threshold = j.value("threshold", 0.0);
    p.faPerHour = j.value("fa_per_hour", 0.0);
    p.missRate = j.value("miss_rate", 0.0);
    p.falseAccepts = j.value("false_accepts", int64_t(0));
    p.misses = j.value("misses", int64_t(0));
    p.hits = j.value("hits", int64_t(0));
    return p;
}

} // namespace

KeywordStream buildKeywordStream(const DatasetIndex &index, const std::vector<std::string> &classes,
    const KeywordStreamOptions &o)
{
    if (!(o.hours > 0.0) || o.hours > 100.0)
        throw Error("stream", "--hours must be in (0, 100]");
    if (!(o.minGapSec >= 0.0) || o.maxGapSec < o.minGapSec)
        throw Error("stream", "gap range is empty");
    std::map<std::string, int> modelClass;
    for (size_t c = 0; c < classes.size(); ++c)
        modelClass[classes[c]] = int(c);
    std::vector<std::pair<const ClipRef *, int>> keywordClips; // clip, model class
    std::vector<const ClipRef *> wordClips;
    for (const ClipRef *c : index.clipsIn(Split::Test)) {
        if (c->labels.empty() || c->labels[0] < 0 || size_t(c->labels[0]) >= index.classes.size())
            continue;
        const std::string &label = index.classes[size_t(c->labels[0])];
        const auto it = modelClass.find(label);
        if (it != modelClass.end() && !neverDetected(label))
            keywordClips.push_back({ c, it->second });
        else if (label != kSilenceLabel)
            wordClips.push_back(c); // _unknown_ words and words the model does not detect
    }
    if (keywordClips.empty())
        throw Error("stream",
            "the test split of '" + index.name + "' has no clip of a class the model detects");

    KeywordStream s;
    const size_t total = size_t(o.hours * 3600.0 * kRate);
    Rng rng({ o.seed, 0x5354524541ull /* "STREA" */ });
    s.samples = NoiseGenerator::generate(NoiseKind::Pink, total, rng);
    scaleToRms(s.samples, 0.1 * std::pow(10.0, -o.snrDb / 20.0));

    std::map<const ClipRef *, LoadedClip> cache;
    auto clip = [&cache](const ClipRef *c) -> const LoadedClip & {
        auto it = cache.find(c);
        if (it == cache.end())
            it = cache.emplace(c, loadClip(*c)).first;
        return it->second;
    };
    size_t pos = size_t(o.minGapSec * kRate);
    while (true) {
        const double u = rng.uniform();
        const LoadedClip *placed = nullptr;
        int cls = -1;
        if (u < o.keywordShare) {
            const auto &pick = keywordClips[size_t(rng.below(keywordClips.size()))];
            placed = &clip(pick.first);
            cls = pick.second;
        } else if (u < o.keywordShare + (1.0 - o.keywordShare) * 0.7 && !wordClips.empty()) {
            placed = &clip(wordClips[size_t(rng.below(wordClips.size()))]);
        }
        const size_t length = placed ? placed->samples.size() : size_t(kRate);
        if (pos + length >= total)
            break;
        if (placed) {
            for (size_t i = 0; i < length; ++i)
                s.samples[pos + i] += placed->samples[i];
            if (cls >= 0)
                s.keywords.push_back({ cls, double(pos) / kRate + placed->onsetSec,
                    double(pos) / kRate + placed->offsetSec });
            else
                ++s.distractorWords;
        } else {
            ++s.noiseOnlyGaps;
        }
        pos += length + size_t(rng.uniform(o.minGapSec, o.maxGapSec) * kRate);
    }
    return s;
}

StreamEvaluation evaluateStream(std::shared_ptr<LiveModel> model, const KeywordStream &stream,
    const StreamingOptions &options, const std::vector<double> &detThresholds, double toleranceSec)
{
    StreamingOptions o = options;
    o.teacher = false;
    o.historySec = 0.0;
    StreamingClassifier classifier(model, o);
    const auto &names = classifier.classes();
    const size_t C = names.size();
    std::vector<float> smoothed;
    std::vector<double> times;
    std::vector<Fired> live;
    const size_t expectedHops
        = size_t(double(stream.samples.size()) / kRate / classifier.hopSec()) + 2;
    smoothed.reserve(expectedHops * C);
    times.reserve(expectedHops);

    const auto t0 = std::chrono::steady_clock::now();
    const size_t chunk = kRate; // one second per push
    for (size_t i = 0; i < stream.samples.size(); i += chunk) {
        const auto results = classifier.push(
            stream.samples.data() + i, std::min(chunk, stream.samples.size() - i));
        for (const auto &r : results) {
            smoothed.insert(smoothed.end(), r.smoothed.begin(), r.smoothed.end());
            times.push_back(r.timeSec);
            for (const auto &d : r.detections)
                live.push_back({ d.classIndex, d.timeSec });
        }
    }
    StreamEvaluation e;
    e.wallSec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e.hours = stream.hours();
    e.realTimeFactor = e.wallSec > 0 ? e.hours * 3600.0 / e.wallSec : 0.0;
    e.threads = torch::get_num_threads();
    e.keywords = int64_t(stream.keywords.size());
    e.threshold = o.threshold;
    e.student = model->info().cell.student;
    e.cell = model->info().cell.name;
    const double windowSec = classifier.windowSec();

    const Scored atThreshold = score(live, stream.keywords, windowSec, toleranceSec, e.hours);
    e.atThreshold = atThreshold.pooled;
    e.atThreshold.threshold = o.threshold;
    for (const auto &[c, p] : atThreshold.perClass) {
        e.perKeywordAtThreshold[names[size_t(c)]] = p;
        e.perKeywordAtThreshold[names[size_t(c)]].threshold = o.threshold;
    }

    std::vector<double> thresholds = detThresholds;
    if (thresholds.empty()) {
        for (int i = 1; i < 50; ++i)
            thresholds.push_back(i / 50.0);
        thresholds.insert(thresholds.end(), { 0.99, 0.995, 0.999 });
    }
    for (double th : thresholds) {
        const auto fired = replayDetections(smoothed, times, C, names, th, o, classifier.hopSec());
        Scored s = score(fired, stream.keywords, windowSec, toleranceSec, e.hours);
        s.pooled.threshold = th;
        e.det.push_back(s.pooled);
        for (auto &[c, p] : s.perClass) {
            p.threshold = th;
            e.perKeywordDet[names[size_t(c)]].push_back(p);
        }
    }
    return e;
}

std::string StreamEvaluation::json() const
{
    nlohmann::json j;
    j["student"] = student;
    j["cell"] = cell;
    j["hours"] = hours;
    j["keywords"] = keywords;
    j["threshold"] = threshold;
    j["at_threshold"] = pointJson(atThreshold);
    j["per_keyword_at_threshold"] = nlohmann::json::object();
    for (const auto &[k, p] : perKeywordAtThreshold)
        j["per_keyword_at_threshold"][k] = pointJson(p);
    j["det"] = nlohmann::json::array();
    for (const auto &p : det)
        j["det"].push_back(pointJson(p));
    j["per_keyword_det"] = nlohmann::json::object();
    for (const auto &[k, v] : perKeywordDet) {
        auto &a = j["per_keyword_det"][k] = nlohmann::json::array();
        for (const auto &p : v)
            a.push_back(pointJson(p));
    }
    j["wall_seconds"] = wallSec;
    j["real_time_factor"] = realTimeFactor;
    j["threads"] = threads;
    return j.dump(1);
}

std::string StreamEvaluation::detCsv() const
{
    std::ostringstream s;
    s << "threshold,keyword,fa_per_hour,miss_rate\n";
    for (const auto &p : det)
        s << p.threshold << ",pooled," << p.faPerHour << "," << p.missRate << "\n";
    for (const auto &[k, v] : perKeywordDet)
        for (const auto &p : v)
            s << p.threshold << "," << k << "," << p.faPerHour << "," << p.missRate << "\n";
    return s.str();
}

StreamEvaluation StreamEvaluation::fromJson(const std::string &text)
{
    const nlohmann::json j = nlohmann::json::parse(text);
    StreamEvaluation e;
    e.student = j.value("student", "");
    e.cell = j.value("cell", "");
    e.hours = j.value("hours", 0.0);
    e.keywords = j.value("keywords", int64_t(0));
    e.threshold = j.value("threshold", 0.0);
    if (j.contains("at_threshold"))
        e.atThreshold = pointFromJson(j["at_threshold"]);
    if (j.contains("per_keyword_at_threshold"))
        for (const auto &[k, v] : j["per_keyword_at_threshold"].items())
            e.perKeywordAtThreshold[k] = pointFromJson(v);
    if (j.contains("det"))
        for (const auto &p : j["det"])
            e.det.push_back(pointFromJson(p));
    if (j.contains("per_keyword_det"))
        for (const auto &[k, v] : j["per_keyword_det"].items())
            for (const auto &p : v)
                e.perKeywordDet[k].push_back(pointFromJson(p));
    e.wallSec = j.value("wall_seconds", 0.0);
    e.realTimeFactor = j.value("real_time_factor", 0.0);
    e.threads = j.value("threads", 1);
    return e;
}

} // namespace tkd
