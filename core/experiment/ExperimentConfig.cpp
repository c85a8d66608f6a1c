#include "core/experiment/ExperimentConfig.h"

#include "core/data/BuiltinCorpus.h"
#include "core/data/DatasetSource.h"
#include "core/data/NoisyDataset.h"
#include "core/distill/AttentionRollout.h"
#include "core/models/StudentRegistry.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <variant>

namespace tkd {

// ---------------------------------------------------------------------------------------------
// Issues and errors

std::string ConfigIssue::toString() const
{
    std::string s;
    if (!source.empty())
        s += source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": ";
    else if (line > 0)
        s += "line " + std::to_string(line) + ": ";
    if (!key.empty())
        s += key + ": ";
    return s + message;
}

namespace {

std::string issueSubject(const ConfigIssue &issue)
{
    std::string s = issue.source;
    if (issue.line > 0)
        s += (s.empty() ? "line " : ":") + std::to_string(issue.line);
    if (!issue.key.empty())
        s += (s.empty() ? "" : ": ") + issue.key;
    return s.empty() ? std::string("experiment") : s;
}

std::string issueReason(const std::vector<ConfigIssue> &issues)
{
    if (issues.empty())
        return "invalid experiment";
    std::string r = issues.front().message;
    if (issues.size() > 1)
        r += " (and " + std::to_string(issues.size() - 1) + " more problem"
            + (issues.size() > 2 ? "s" : "") + ")";
    return r;
}

} // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : Error(issues.empty() ? std::string("experiment") : issueSubject(issues.front()),
        issueReason(issues))
    , m_issues(std::move(issues))
{
    // A hostile file can hold millions of problems; every list shown (terminal, studio) gets the
    // first ones and a count, never all of them (2M rows froze the studio's text layout).
    if (m_issues.size() > kMaxIssues) {
        const size_t more = m_issues.size() - (kMaxIssues - 1);
        ConfigIssue last = m_issues[kMaxIssues - 1];
        m_issues.resize(kMaxIssues - 1);
        last.key.clear();
        last.line = 0;
        last.message = "... and " + std::to_string(more) + " more problems";
        m_issues.push_back(std::move(last));
    }
}

// ---------------------------------------------------------------------------------------------
// Equality

bool ExperimentConfig::Corpus::operator==(const Corpus &o) const
{
    return speakers == o.speakers && seed == o.seed && fliteShare == o.fliteShare
        && speed[0] == o.speed[0] && speed[1] == o.speed[1]
        && pitchSemitones[0] == o.pitchSemitones[0] && pitchSemitones[1] == o.pitchSemitones[1]
        && vtl[0] == o.vtl[0] && vtl[1] == o.vtl[1] && unseenVoices == o.unseenVoices;
}
bool ExperimentConfig::Noisy::operator==(const Noisy &o) const
{
    return lengthSec == o.lengthSec && snrDbMin == o.snrDbMin && snrDbMax == o.snrDbMax
        && noise == o.noise && noiseDir == o.noiseDir && babbleGainDb == o.babbleGainDb
        && babbleWords == o.babbleWords && seed == o.seed && roomChannel == o.roomChannel;
}
bool ExperimentConfig::Data::operator==(const Data &o) const
{
    return source == o.source && path == o.path && task == o.task && corpus == o.corpus
        && noisy == o.noisy;
}
bool ExperimentConfig::Rollout::operator==(const Rollout &o) const
{
    return headFusion == o.headFusion && residual == o.residual && layers == o.layers;
}
bool ExperimentConfig::Teacher::operator==(const Teacher &o) const
{
    return kind == o.kind && weights == o.weights && fineTune == o.fineTune
        && probeClipsPerClass == o.probeClipsPerClass && epochs == o.epochs && lr == o.lr
        && batchSize == o.batchSize && freshNoiseEachEpoch == o.freshNoiseEachEpoch
        && rollout == o.rollout;
}
bool ExperimentConfig::LogitKd::operator==(const LogitKd &o) const
{
    return weight == o.weight && temperature == o.temperature;
}
bool ExperimentConfig::Kd::operator==(const Kd &o) const
{
    return lambdas == o.lambdas && target == o.target && logitKd == o.logitKd;
}
bool ExperimentConfig::Grid::operator==(const Grid &o) const
{
    return lengthsSec == o.lengthsSec && seeds == o.seeds;
}
bool ExperimentConfig::Train::operator==(const Train &o) const
{
    return optimizer == o.optimizer && lr == o.lr && momentum == o.momentum
        && weightDecay == o.weightDecay && schedule == o.schedule && warmupEpochs == o.warmupEpochs
        && epochs == o.epochs && batchSize == o.batchSize
        && earlyStoppingPatience == o.earlyStoppingPatience
        && earlyStoppingMinEpochs == o.earlyStoppingMinEpochs && gradClipNorm == o.gradClipNorm
        && numThreads == o.numThreads && device == o.device;
}
bool ExperimentConfig::Output::operator==(const Output &o) const
{
    return runsDir == o.runsDir;
}

bool ExperimentConfig::operator==(const ExperimentConfig &o) const
{
    // FeatureConfig has no operator==: its canonical text lists every parameter exactly, and
    // the kind separately because mfcc_count is left out of it for log-mel.
    return name == o.name && seed == o.seed && data == o.data && features.kind == o.features.kind
        && features.mfccCount == o.features.mfccCount
        && features.canonicalString() == o.features.canonicalString() && teacher == o.teacher
        && students == o.students && kd == o.kd && grid == o.grid && train == o.train
        && output == o.output;
}

NoisyConfig ExperimentConfig::noisyConfig(double lengthSec) const
{
    NoisyConfig n;
    n.lengthSec = lengthSec;
    n.snrDbMin = data.noisy.snrDbMin;
    n.snrDbMax = data.noisy.snrDbMax;
    n.kinds.clear();
    for (const std::string &k : data.noisy.noise)
        n.kinds.push_back(noiseKindFromName(k));
    n.noiseFolder = data.noisy.noiseDir;
    n.babbleGainDb = data.noisy.babbleGainDb;
    n.babbleWords = data.noisy.babbleWords;
    n.seed = data.noisy.seed;
    n.roomChannel = data.noisy.roomChannel;
    return n;
}

RolloutOptions ExperimentConfig::rolloutOptions() const
{
    RolloutOptions r;
    r.headFusion = teacher.rollout.headFusion;
    r.residualWeight = teacher.rollout.residual;
    r.layers = teacher.rollout.layers;
    return r;
}

DatasetSource ExperimentConfig::datasetSource(const std::string &corpusDir) const
{
    DatasetSource s;
    s.kind = DatasetSource::kindFromName(data.source);
    s.path = s.kind == DatasetSource::Kind::Builtin && !corpusDir.empty() ? corpusDir : data.path;
    s.task = data.task;
    s.corpus = corpusConfig();
    return s;
}

BuiltinCorpusConfig ExperimentConfig::corpusConfig() const
{
    BuiltinCorpusConfig c;
    c.speakers = data.corpus.speakers;
    c.seed = data.corpus.seed;
    c.fliteShare = data.corpus.fliteShare;
    c.speedMin = data.corpus.speed[0];
    c.speedMax = data.corpus.speed[1];
    c.pitchMinSt = data.corpus.pitchSemitones[0];
    c.pitchMaxSt = data.corpus.pitchSemitones[1];
    c.vtlMin = data.corpus.vtl[0];
    c.vtlMax = data.corpus.vtl[1];
    return c;
}

std::vector<uint64_t> ExperimentConfig::studentSeeds() const
{
    return grid.seeds.empty() ? std::vector<uint64_t> { seed } : grid.seeds;
}

std::vector<double> ExperimentConfig::clipLengths() const
{
    return grid.lengthsSec.empty() ? std::vector<double> { data.noisy.lengthSec } : grid.lengthsSec;
}

} // namespace tkd
