#pragma once

#include "core/infer/StreamingClassifier.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tkd {

struct DatasetIndex;
class LiveModel;

// A keyword spoken at a known place in a long stream.
struct StreamKeyword
{
    int classIndex = -1; // in the model's class order
    double onsetSec = 0.0, offsetSec = 0.0; // the speech inside the placed clip
};

// A long, deterministic test stream: test-split keyword clips at known times among test-split
// non-keyword words ("_unknown_" clips and words of classes the model does not detect) and
// noise-only stretches, over continuous pink background noise. A pure function of (index,
// classes, hours, seed, SNR).
struct KeywordStream
{
    std::vector<float> samples; // 16 kHz mono
    std::vector<StreamKeyword> keywords;
    int64_t distractorWords = 0;
    int64_t noiseOnlyGaps = 0;
    double hours() const { return double(samples.size()) / 16000.0 / 3600.0; }
};

struct KeywordStreamOptions
{
    double hours = 1.0;
    uint64_t seed = 1;
    double snrDb = 20.0; // speech RMS over background RMS
    double keywordShare
        = 0.5; // of the events; the rest: words 35 %, noise-only 15 % (of 1 - share)
    double minGapSec = 1.0, maxGapSec = 3.0; // between events
};

// Builds the stream from the test split of `index`; `classes` is the model's class order.
// Throws tkd::Error("stream", ...) when the split has no keyword clip of a detectable class.
KeywordStream buildKeywordStream(const DatasetIndex &index, const std::vector<std::string> &classes,
    const KeywordStreamOptions &options);

// FA/h and misses at one threshold.
struct DetPoint
{
    double threshold = 0.0;
    double faPerHour = 0.0;
    double missRate = 0.0;
    int64_t falseAccepts = 0, misses = 0, hits = 0;
};

struct StreamEvaluation
{
    std::string student, cell;
    double hours = 0.0;
    int64_t keywords = 0;
    double threshold = 0.0;
    DetPoint atThreshold; // pooled, from the classifier's own detections
    std::map<std::string, DetPoint> perKeywordAtThreshold;
    std::vector<DetPoint> det; // pooled, over thresholds
    std::map<std::string, std::vector<DetPoint>> perKeywordDet;
    double wallSec = 0.0; // the streaming pass (features + student + detection)
    double realTimeFactor = 0.0; // stream seconds per wall second
    int threads = 1;

    std::string json() const; // the DET data file
    std::string detCsv() const; // threshold, keyword (or "pooled"), fa_per_hour, miss_rate
    static StreamEvaluation fromJson(const std::string &text);
};

// Runs `stream` through StreamingClassifier (the path of `tkd live`: incremental features, the
// student every hop, posterior smoothing, thresholded detection with minimum duration and
// refractory time), teacher off. A detection counts as a hit when it names a keyword whose
// midpoint lies inside the window that fired (plus `toleranceSec` after it); each keyword is hit
// at most once and repeated detections of a hit keyword are not false accepts; every other
// detection is a false accept. The DET curve replays the same detection rule on the recorded
// smoothed posteriors at each threshold (the replay at options.threshold equals the live
// detections; tests check this).
StreamEvaluation evaluateStream(std::shared_ptr<LiveModel> model, const KeywordStream &stream,
    const StreamingOptions &options, const std::vector<double> &detThresholds = {},
    double toleranceSec = 0.5);

} // namespace tkd
