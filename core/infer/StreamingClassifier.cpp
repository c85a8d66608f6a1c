#include "core/infer/StreamingClassifier.h"

#include "core/features/FeatureExtractor.h"
#include "core/features/StreamingFeatureExtractor.h"
#include "core/infer/LiveModelImpl.h"
#include "core/util/Error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>

namespace tkd {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The newest rows of a growing [rows, dim] matrix, contiguous, without reallocating: rows are
// appended to a buffer several windows long and the last `keep` rows move to the front when it
// fills (one memmove per few windows).
class RowHistory
{
public:
    void configure(int64_t dim, int64_t keep)
    {
        m_dim = dim;
        m_keep = std::max<int64_t>(keep, 1);
        m_capacity = 4 * m_keep + 64;
        m_buffer.assign(size_t(m_capacity * m_dim), 0.0f);
        m_rows = 0;
    }
    void clear() { m_rows = 0; }
    void append(const float *row)
    {
        if (m_rows == m_capacity) {
            std::memmove(m_buffer.data(), m_buffer.data() + (m_capacity - m_keep) * m_dim,
                size_t(m_keep * m_dim) * sizeof(float));
            m_rows = m_keep;
        }
        std::memcpy(m_buffer.data() + m_rows * m_dim, row, size_t(m_dim) * sizeof(float));
        ++m_rows;
    }
    int64_t rows() const { return m_rows; }
    // The last n rows (n <= keep and n <= rows()).
    const float *last(int64_t n) const { return m_buffer.data() + (m_rows - n) * m_dim; }

private:
    std::vector<float> m_buffer;
    int64_t m_dim = 1, m_keep = 1, m_capacity = 1, m_rows = 0;
};

std::vector<float> toVector(const torch::Tensor &t)
{
    const torch::Tensor c = t.to(torch::kCPU, torch::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

bool neverDetected(const std::string &name)
{
    return !name.empty() && name[0] == '_';
}

} // namespace

const char *posteriorSmoothingName(PosteriorSmoothing s)
{
    switch (s) {
    case PosteriorSmoothing::None:
        return "none";
    case PosteriorSmoothing::MovingAverage:
        return "mean";
    case PosteriorSmoothing::Ema:
        return "ema";
    }
    return "none";
}

PosteriorSmoothing posteriorSmoothingFromName(const std::string &name)
{
    if (name == "none")
        return PosteriorSmoothing::None;
    if (name == "mean" || name == "moving-average")
        return PosteriorSmoothing::MovingAverage;
    if (name == "ema")
        return PosteriorSmoothing::Ema;
    throw Error("smoothing", "'" + name + "' is not one of none, mean, ema");
}

void StreamingOptions::validate() const
{
    if (!(windowSec >= 0.0) || windowSec > 60.0)
        throw Error("live.window", "must be 0 (the model's length) or up to 60 s");
    if (!(hopSec > 0.0) || hopSec > 10.0)
        throw Error("live.hop", "must be in (0, 10] seconds");
    if (!(smoothingSec >= 0.0))
        throw Error("live.smoothing", "time must be >= 0");
    if (!(threshold > 0.0) || threshold > 1.0)
        throw Error("live.threshold", "must be in (0, 1]");
    for (const auto &[name, t] : classThresholds)
        if (!(t > 0.0) || t > 1.0)
            throw Error("live.threshold." + name, "must be in (0, 1]");
    if (!(minDurationSec >= 0.0))
        throw Error("live.min_duration", "must be >= 0");
    if (!(refractorySec >= 0.0))
        throw Error("live.refractory", "must be >= 0");
    if (!(teacherIntervalSec >= 0.0))
        throw Error("live.teacher_interval", "must be >= 0");
    if (!(teacherBudget >= 0.0) || teacherBudget > 1.0)
        throw Error("live.teacher_budget", "must be in [0, 1]");
    if (!(historySec >= 0.0) || historySec > 600.0)
        throw Error("live.history", "must be in [0, 600] seconds");
    if (std::isnan(silenceFloorDb) || silenceFloorDb > 0.0)
        throw Error("live.silence_floor", "must be a level in dBFS <= 0 (-inf: no gate)");
}

double AttentionCurve::peakSec() const
{
    if (weights.empty())
        return -1.0;
    const size_t i = size_t(std::max_element(weights.begin(), weights.end()) - weights.begin());
    return startSec + (endSec - startSec) * (double(i) + 0.5) / double(weights.size());
}

struct StreamingClassifier::State
{
    explicit State(const FeatureConfig &f)
        : features(f)
        , spectralConfig(f)
        , mfcc(f)
        , logmel(spectral(f))
    {
        spectralConfig.kind = FeatureConfig::Kind::LogMel;
    }
    static FeatureConfig spectral(FeatureConfig f)
    {
        f.kind = FeatureConfig::Kind::LogMel;
        return f;
    }

    FeatureConfig features;
    FeatureConfig spectralConfig;
    StreamingFeatureExtractor mfcc;
    StreamingFeatureExtractor logmel;
    int64_t windowFrames = 0, hopFrames = 1, hopSamples = 320, windowSamplesPerFrame = 640;
    RowHistory studentFrames, spectralFrames;
    // Raw audio: samples [historyStart, historyStart + history.size()) of the stream.
    std::deque<float> history;
    int64_t historyStart = 0;
    size_t historyCapacity = 0;

    int64_t frames = 0; // frames emitted so far
    int64_t samples = 0; // samples pushed so far
    int64_t hop = 0;

    // Smoothing and detection.
    std::vector<float> ema;
    std::deque<std::vector<float>> recent;
    std::vector<int> aboveHops;
    std::vector<bool> armed;
    double lastDetectionSec = -std::numeric_limits<double>::infinity();

    // Teacher.
    int64_t lastTeacherHop = std::numeric_limits<int64_t>::min() / 2;
    double lastTeacherMs = 0.0;
    AttentionCurve teacherCurve;
    std::vector<float> teacherPosteriors;
    std::unique_ptr<AttentionRollout> rollout;
};

StreamingClassifier::StreamingClassifier(std::shared_ptr<LiveModel> model, StreamingOptions options)
    : m_model(std::move(model))
    , m_options(std::move(options))
{
    if (!m_model)
        throw Error("live.model", "no model");
    m_options.validate();
    const LiveModel::Impl &d = m_model->impl();
    m_state = std::make_unique<State>(d.info.features);
    State &s = *m_state;
    const FeatureConfig &f = s.features;
    s.hopSamples = f.hopSamples();
    s.windowSamplesPerFrame = f.windowSamples();
    const double windowSec = m_options.windowSec > 0.0 ? m_options.windowSec : d.info.windowSec;
    s.windowFrames = f.numFrames(int64_t(std::llround(windowSec * f.sampleRate)));
    if (s.windowFrames < std::max<int64_t>(1, d.student.minFrames()))
        throw Error("live.window",
            std::to_string(windowSec) + " s gives " + std::to_string(s.windowFrames) + " frames; "
                + d.student.name() + " needs at least " + std::to_string(d.student.minFrames()));
    s.hopFrames = std::max<int64_t>(1, std::llround(m_options.hopSec * 1000.0 / f.hopMs));
    s.studentFrames.configure(f.featureDim(), s.windowFrames);
    s.spectralFrames.configure(f.melBins, s.windowFrames);
    s.historyCapacity = size_t(
        std::max<double>(m_options.historySec * f.sampleRate, double(windowSamples())) + 1);
    s.rollout = std::make_unique<AttentionRollout>(d.rollout);
    reset();
}

StreamingClassifier::~StreamingClassifier() = default;

const std::vector<std::string> &StreamingClassifier::classes() const
{
    return m_model->info().classes;
}
int64_t StreamingClassifier::windowFrames() const
{
    return m_state->windowFrames;
}
int64_t StreamingClassifier::hopFrames() const
{
    return m_state->hopFrames;
}
int64_t StreamingClassifier::windowSamples() const
{
    return (m_state->windowFrames - 1) * m_state->hopSamples + m_state->windowSamplesPerFrame;
}
double StreamingClassifier::windowSec() const
{
    return double(windowSamples()) / m_state->features.sampleRate;
}
double StreamingClassifier::hopSec() const
{
    return double(m_state->hopFrames * m_state->hopSamples) / m_state->features.sampleRate;
}
double StreamingClassifier::timeSec() const
{
    return double(m_state->samples) / m_state->features.sampleRate;
}
bool StreamingClassifier::warmingUp() const
{
    return m_state->frames < m_state->windowFrames;
}
int StreamingClassifier::spectrogramBins() const
{
    return m_state->features.melBins;
}

void StreamingClassifier::reset()
{
    State &s = *m_state;
    s.mfcc.reset();
    s.logmel.reset();
    s.studentFrames.clear();
    s.spectralFrames.clear();
    s.history.clear();
    s.historyStart = 0;
    s.frames = s.samples = s.hop = 0;
    const size_t c = size_t(m_model->numClasses());
    s.ema.clear();
    s.recent.clear();
    s.aboveHops.assign(c, 0);
    s.armed.assign(c, true);
    s.lastDetectionSec = -std::numeric_limits<double>::infinity();
    s.lastTeacherHop = std::numeric_limits<int64_t>::min() / 2;
    s.lastTeacherMs = 0.0;
    s.teacherCurve = {};
    s.teacherPosteriors.clear();
    m_lastSpectrogram.clear();
}

void StreamingClassifier::setOptions(const StreamingOptions &options)
{
    options.validate();
    if (options.windowSec != m_options.windowSec
        || std::abs(options.hopSec - m_options.hopSec) > 1e-12
        || options.historySec != m_options.historySec)
        throw Error("live.window",
            "window, hop and history are fixed once streaming starts (make a new classifier)");
    if (options.smoothing != m_options.smoothing
        || options.smoothingSec != m_options.smoothingSec) {
        m_state->ema.clear();
        m_state->recent.clear();
    }
    m_options = options;
}

std::vector<float> StreamingClassifier::recentAudio(double seconds) const
{
    const State &s = *m_state;
    const size_t n
        = std::min(s.history.size(), size_t(std::max(0.0, seconds) * s.features.sampleRate));
    return std::vector<float>(s.history.end() - std::ptrdiff_t(n), s.history.end());
}

std::vector<StreamingResult> StreamingClassifier::push(const float *samples, size_t n)
{
    std::vector<StreamingResult> results;
    if (n == 0)
        return results;
    if (!samples)
        throw Error("live.input", "null samples");
    State &s = *m_state;
    s.history.insert(s.history.end(), samples, samples + n);
    if (s.history.size() > s.historyCapacity) {
        const size_t drop = s.history.size() - s.historyCapacity;
        s.history.erase(s.history.begin(), s.history.begin() + std::ptrdiff_t(drop));
        s.historyStart += int64_t(drop);
    }
    s.samples += int64_t(n);

    const auto t0 = Clock::now();
    torch::InferenceMode guard;
    const torch::Tensor mf = s.mfcc.push(samples, n);
    const torch::Tensor lm = s.logmel.push(samples, n);
    double featureMs = msSince(t0);
    const int64_t k = mf.size(0);
    m_lastSpectrogram.clear();
    const float *mp = mf.data_ptr<float>();
    const float *lp = lm.data_ptr<float>();
    const int64_t cm = mf.size(1), cl = lm.size(1);
    for (int64_t i = 0; i < k; ++i) {
        s.studentFrames.append(mp + i * cm);
        s.spectralFrames.append(lp + i * cl);
        m_lastSpectrogram.emplace_back(lp + i * cl, lp + (i + 1) * cl);
        ++s.frames;
        if (s.frames >= s.windowFrames && (s.frames - s.windowFrames) % s.hopFrames == 0) {
            StreamingResult r = runHop();
            r.featureMs = featureMs;
            featureMs = 0.0;
            if (m_callback)
                m_callback(r);
            results.push_back(std::move(r));
        }
    }
    return results;
}

namespace {

// Posteriors and attention of one window of student frames [1, W, C].
struct StudentPass
{
    std::vector<float> posteriors;
    std::vector<float> attention; // resampled to W cells; empty when the student has none
};

StudentPass runStudent(LiveModel::Impl &d, const torch::Tensor &frames)
{
    StudentPass p;
    const StudentOutput out = d.student.forward(d.norm.apply(frames));
    p.posteriors = toVector(torch::softmax(out.logits[0], 0));
    torch::Tensor row;
    if (!d.branch.is_empty())
        row = d.branch->forward(out.context);
    else if (out.nativeAttention.defined())
        row = out.nativeAttention.mean(1);
    if (row.defined())
        p.attention = toVector(AttentionRollout::resampleRow(row, frames.size(1))[0]);
    return p;
}

} // namespace

std::vector<float> StreamingClassifier::classifyWindow(const std::vector<float> &samples)
{
    if (int64_t(samples.size()) != windowSamples())
        throw Error("live.window",
            "classifyWindow wants " + std::to_string(windowSamples()) + " samples, got "
                + std::to_string(samples.size()));
    torch::InferenceMode guard;
    const torch::Tensor frames = FeatureExtractor(m_state->features).compute(samples).unsqueeze(0);
    return runStudent(m_model->impl(), frames).posteriors;
}

StreamingResult StreamingClassifier::runHop()
{
    State &s = *m_state;
    LiveModel::Impl &d = m_model->impl();
    const int64_t W = s.windowFrames;
    const double sr = s.features.sampleRate;
    StreamingResult r;
    r.hop = s.hop++;
    const int64_t firstFrame = s.frames - W;
    r.windowStartSec = double(firstFrame * s.hopSamples) / sr;
    r.timeSec = double((s.frames - 1) * s.hopSamples + s.windowSamplesPerFrame) / sr;

    r.levelDb = windowLevelDb(firstFrame * s.hopSamples);
    if (r.levelDb < m_options.silenceFloorDb) {
        gateSilence(r);
        return r;
    }

    auto t0 = Clock::now();
    const torch::Tensor frames = torch::from_blob(const_cast<float *>(s.studentFrames.last(W)),
        { 1, W, s.features.featureDim() }, torch::kFloat)
                                     .clone();
    StudentPass p = runStudent(d, frames);
    r.studentMs = msSince(t0);
    r.posteriors = std::move(p.posteriors);
    r.student.weights = std::move(p.attention);
    r.student.startSec = r.windowStartSec;
    r.student.endSec = r.timeSec;

    // Teacher: every hop, or thinned by the interval option and by its own measured cost.
    if (m_options.teacher && !d.teacher.is_empty()) {
        int every = std::max(1, int(std::ceil(m_options.teacherIntervalSec / hopSec() - 1e-9)));
        if (m_options.teacherBudget > 0.0 && s.lastTeacherMs > 0.0)
            every = std::max(every,
                int(std::ceil(s.lastTeacherMs / (m_options.teacherBudget * hopSec() * 1000.0))));
        r.teacherEvery = every;
        if (r.hop - s.lastTeacherHop >= every) {
            t0 = Clock::now();
            torch::Tensor input;
            if (d.teacherSpectral) {
                input = torch::from_blob(const_cast<float *>(s.spectralFrames.last(W)),
                    { 1, W, s.features.melBins }, torch::kFloat)
                            .clone();
            } else {
                const int64_t first = firstFrame * s.hopSamples - s.historyStart;
                const int64_t n = windowSamples();
                std::vector<float> w(s.history.begin() + first, s.history.begin() + first + n);
                input = torch::from_blob(w.data(), { 1, n }, torch::kFloat).clone();
            }
            const Wav2Vec2Output out = d.teacher->forward(input);
            const torch::Tensor row = s.rollout->rolloutRow(out.attentions);
            s.teacherCurve.weights = toVector(AttentionRollout::resampleRow(row, W)[0]);
            s.teacherCurve.startSec = r.windowStartSec;
            s.teacherCurve.endSec = r.timeSec;
            s.teacherPosteriors = out.logits.defined() ? toVector(torch::softmax(out.logits[0], 0))
                                                       : std::vector<float>();
            s.lastTeacherHop = r.hop;
            s.lastTeacherMs = r.teacherMs = msSince(t0);
            r.teacherFresh = true;
        }
        r.teacher = s.teacherCurve;
        r.teacherPosteriors = s.teacherPosteriors;
    }

    smoothAndDetect(r);
    return r;
}

double StreamingClassifier::windowLevelDb(int64_t firstSample) const
{
    const State &s = *m_state;
    const int64_t first = std::max<int64_t>(0, firstSample - s.historyStart);
    const int64_t last = std::min<int64_t>(int64_t(s.history.size()), first + windowSamples());
    double energy = 0.0;
    for (int64_t i = first; i < last; ++i)
        energy += double(s.history[size_t(i)]) * s.history[size_t(i)];
    const double meanSquare = last > first ? energy / double(last - first) : 0.0;
    return meanSquare > 0.0 ? 10.0 * std::log10(meanSquare)
                            : -std::numeric_limits<double>::infinity();
}

void StreamingClassifier::gateSilence(StreamingResult &r)
{
    const auto &names = classes();
    const auto it = std::find(names.begin(), names.end(), std::string("_silence_"));
    r.belowFloor = true;
    r.posteriors.assign(names.size(), it == names.end() ? 1.0f / float(names.size()) : 0.0f);
    if (it != names.end())
        r.posteriors[size_t(it - names.begin())] = 1.0f;
    r.student = AttentionCurve();
    r.student.startSec = r.windowStartSec;
    r.student.endSec = r.timeSec;
    r.teacher = m_state->teacherCurve;
    r.teacherPosteriors = m_state->teacherPosteriors;
    smoothAndDetect(r);
}

void StreamingClassifier::smoothAndDetect(StreamingResult &r)
{
    State &s = *m_state;
    const size_t C = r.posteriors.size();
    switch (m_options.smoothing) {
    case PosteriorSmoothing::None:
        r.smoothed = r.posteriors;
        break;
    case PosteriorSmoothing::Ema: {
        if (s.ema.size() != C || m_options.smoothingSec <= 0.0) {
            s.ema = r.posteriors;
        } else {
            const float a = float(1.0 - std::exp(-hopSec() / m_options.smoothingSec));
            for (size_t c = 0; c < C; ++c)
                s.ema[c] += a * (r.posteriors[c] - s.ema[c]);
        }
        r.smoothed = s.ema;
        break;
    }
    case PosteriorSmoothing::MovingAverage: {
        const size_t len
            = size_t(std::max<long long>(1, std::llround(m_options.smoothingSec / hopSec())));
        s.recent.push_back(r.posteriors);
        while (s.recent.size() > len)
            s.recent.pop_front();
        r.smoothed.assign(C, 0.0f);
        for (const auto &v : s.recent)
            for (size_t c = 0; c < C; ++c)
                r.smoothed[c] += v[c] / float(s.recent.size());
        break;
    }
    }
    r.topClass = int(std::max_element(r.smoothed.begin(), r.smoothed.end()) - r.smoothed.begin());
    r.topScore = r.smoothed[size_t(r.topClass)];
    detect(r);
}

void StreamingClassifier::detect(StreamingResult &r)
{
    State &s = *m_state;
    const auto &names = classes();
    const int minHops = std::max(1, int(std::llround(m_options.minDurationSec / hopSec())));
    int best = -1;
    for (size_t c = 0; c < r.smoothed.size(); ++c) {
        double threshold = m_options.threshold;
        if (auto it = m_options.classThresholds.find(names[c]);
            it != m_options.classThresholds.end())
            threshold = it->second;
        if (r.smoothed[c] >= threshold) {
            ++s.aboveHops[c];
        } else {
            s.aboveHops[c] = 0;
            s.armed[c] = true;
        }
        if (neverDetected(names[c]) || !s.armed[c] || s.aboveHops[c] < minHops)
            continue;
        if (best < 0 || r.smoothed[c] > r.smoothed[size_t(best)])
            best = int(c);
    }
    if (best < 0 || r.timeSec - s.lastDetectionSec < m_options.refractorySec - 1e-9)
        return;
    Detection det;
    det.classIndex = best;
    det.label = names[size_t(best)];
    det.timeSec = r.timeSec;
    det.windowStartSec = r.windowStartSec;
    det.score = r.smoothed[size_t(best)];
    det.peakSec = r.student.peakSec();
    det.hop = r.hop;
    s.lastDetectionSec = r.timeSec;
    s.armed[size_t(best)] = false;
    r.detections.push_back(det);
}

} // namespace tkd
