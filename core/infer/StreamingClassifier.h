#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tkd {

class LiveModel;

// How posteriors are smoothed over time before detection.
enum class PosteriorSmoothing {
    None, // the raw posteriors of each hop
    MovingAverage, // mean of the last round(smoothingSec / hop) hops
    Ema // exponential moving average with time constant smoothingSec
};
const char *posteriorSmoothingName(PosteriorSmoothing s); // "none" | "mean" | "ema"
PosteriorSmoothing posteriorSmoothingFromName(
    const std::string &name); // tkd::Error("smoothing", ...)

struct StreamingOptions
{
    double windowSec = 0.0; // analysis window; 0: the length the student was trained at
    double hopSec = 0.1; // one student run per hop (rounded to whole feature frames)
    PosteriorSmoothing smoothing = PosteriorSmoothing::Ema;
    double smoothingSec = 0.2;
    double threshold = 0.6; // smoothed posterior a keyword must reach...
    std::map<std::string, double> classThresholds; // ...or its own, by class name
    double minDurationSec = 0.2; // ...for this long (whole hops, at least one)...
    double refractorySec = 1.0; // ...and no detection fires this soon after the previous one.
    // A detected class re-arms only once its smoothed posterior fell below its threshold, so a
    // keyword that stays in a long window is reported once.

    bool teacher = true; // run the teacher (when the model has one)
    double teacherIntervalSec = 0.0; // at most one teacher run per this many seconds; 0: every hop
    // > 0: also thin the teacher so that its measured cost stays below this share of real time
    // (live use: the student must keep up; the teacher takes what is left).
    double teacherBudget = 0.0;
    double historySec = 10.0; // raw audio kept for recentAudio() (at least one window)
    // A window whose RMS level (dBFS) is below this is silence without running the model:
    // digital silence, or a muted microphone, lies far below any corpus's noise floor, and a
    // student answers it with a confident, arbitrary keyword. -inf turns the gate off.
    double silenceFloorDb = -80.0;

    // Throws tkd::Error("live.<field>", ...) for values that can never work.
    void validate() const;
};

// An attention curve over one analysis window: weights[i] belongs to the i-th of weights.size()
// equal cells spanning [startSec, endSec] of stream time. Sums to 1; empty when not available.
struct AttentionCurve
{
    std::vector<float> weights;
    double startSec = 0.0;
    double endSec = 0.0;
    double peakSec() const; // centre of the heaviest cell; -1 when empty
};

struct Detection
{
    int classIndex = -1;
    std::string label;
    double timeSec = 0.0; // stream time of the hop that fired (= its window's end)
    double windowStartSec = 0.0; // the window that fired
    double score = 0.0; // smoothed posterior when it fired
    double peakSec = -1.0; // where the student's attention peaked in that window (-1: none)
    int64_t hop = 0;
};

// One hop's output.
struct StreamingResult
{
    int64_t hop = 0; // 0-based
    double timeSec = 0.0; // stream time of the window's end (samples consumed / 16 kHz)
    double windowStartSec = 0.0;
    std::vector<float> posteriors; // softmax of this window's logits
    std::vector<float> smoothed;
    int topClass = -1; // argmax of smoothed
    float topScore = 0.0f;
    AttentionCurve student; // branch or native attention (see LiveModel)
    AttentionCurve teacher; // rollout of the most recent teacher run (may be an older window)
    bool teacherFresh = false; // the teacher ran on this very window
    std::vector<float> teacherPosteriors; // of the most recent teacher run
    std::vector<Detection> detections; // fired at this hop
    double featureMs = 0.0, studentMs = 0.0, teacherMs = 0.0; // compute of this hop
    int teacherEvery = 1; // the teacher's current stride in hops
    // The window was below silenceFloorDb: no model ran; posteriors are all on the model's
    // "_silence_" class (uniform when it has none), and there is no attention curve.
    bool belowFloor = false;
    double levelDb = 0.0; // the window's RMS level in dBFS
};

// The student (and teacher) over a stream: features are computed incrementally as samples
// arrive (StreamingFeatureExtractor), and every hop the last windowSec of frames go through
// the student, standardised with the checkpoint's FeatureNorm. The frames of a window are
// bit-identical to FeatureExtractor over the same samples, so a hop's posteriors equal an
// offline classification of that stretch of audio. Unknown and silence ("_"-prefixed names) are
// classes like any other, but never detected. Not thread-safe: one feeding thread, which should
// run with torch's intra-op threads at 1 (see StreamingFeatureExtractor).
class StreamingClassifier
{
public:
    using ResultCallback = std::function<void(const StreamingResult &)>;

    // Throws tkd::Error for bad options.
    StreamingClassifier(std::shared_ptr<LiveModel> model, StreamingOptions options = {});
    ~StreamingClassifier();

    // Feeds 16 kHz mono samples; runs every hop they complete (possibly several) and returns
    // the results in order (also passed to the callback, if set).
    std::vector<StreamingResult> push(const float *samples, size_t n);
    std::vector<StreamingResult> push(const std::vector<float> &s)
    {
        return push(s.data(), s.size());
    }
    void setResultCallback(ResultCallback cb) { m_callback = std::move(cb); }

    // Starts a new stream (time 0), keeping the model and options.
    void reset();
    // Thresholds, smoothing and detection settings may change between pushes (window and hop
    // may not: tkd::Error). Keeps the stream.
    void setOptions(const StreamingOptions &options);

    const StreamingOptions &options() const { return m_options; }
    const std::vector<std::string> &classes() const;
    LiveModel &model() { return *m_model; }
    int64_t windowFrames() const; // feature frames per window
    int64_t hopFrames() const;
    double windowSec() const; // exact window span in seconds
    int64_t windowSamples() const; // samples a window covers
    double hopSec() const;
    double timeSec() const; // stream time so far
    bool warmingUp() const; // fewer than one window of audio seen yet

    // The last `seconds` of raw audio (at most historySec), oldest first.
    std::vector<float> recentAudio(double seconds) const;
    // Log-mel frames ([k][bins], same frame clock as the student's) produced by the last push,
    // for a rolling spectrogram.
    const std::vector<std::vector<float>> &lastSpectrogramFrames() const
    {
        return m_lastSpectrogram;
    }
    int spectrogramBins() const;

    // The student alone over one window of samples (windowSamples() long): the offline
    // reference the streaming path must agree with.
    std::vector<float> classifyWindow(const std::vector<float> &samples);

private:
    struct State;
    StreamingResult runHop();
    double windowLevelDb(int64_t firstSample) const; // RMS of the window's raw samples, dBFS
    void gateSilence(StreamingResult &r); // a window below the silence floor
    void smoothAndDetect(StreamingResult &r);
    void detect(StreamingResult &r);

    std::shared_ptr<LiveModel> m_model;
    StreamingOptions m_options;
    std::unique_ptr<State> m_state;
    ResultCallback m_callback;
    std::vector<std::vector<float>> m_lastSpectrogram;
};

} // namespace tkd
