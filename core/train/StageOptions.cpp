#include "core/train/StageOptions.h"

#include "core/util/Format.h"

namespace tkd {

TeacherTrainOptions teacherOptions(const ExperimentConfig &c, const PipelineOptions &o,
    double lengthSec, const std::string &runPath, torch::Device device)
{
    TeacherTrainOptions to;
    to.kind = c.teacher.kind;
    to.weights = c.teacher.weights;
    to.fineTune = c.teacher.fineTune;
    to.probeClipsPerClass = c.teacher.probeClipsPerClass;
    to.epochs = c.teacher.epochs;
    to.lr = c.teacher.lr;
    to.batchSize = c.teacher.batchSize;
    to.freshNoiseEachEpoch = c.teacher.freshNoiseEachEpoch;
    to.spectralSubsampling = o.teacherSubsampling;
    to.seed = c.seed;
    to.device = device;
    to.rollout = c.rolloutOptions();
    to.features = c.features;
    to.stage = "teacher L=" + formatNumber(lengthSec);
    to.checkpointDir = runPath + "/teacher-L" + formatNumber(lengthSec);
    to.configHash = c.hash();
    to.threads = o.threads;
    return to;
}

StudentTrainOptions studentOptions(const ExperimentConfig &c, const std::string &student,
    double lambda, uint64_t seed, double lengthSec, bool oracleTeacher, const std::string &runPath,
    torch::Device device)
{
    StudentTrainOptions so;
    so.student = student;
    so.lambda = lambda;
    so.kdTarget = c.kd.target;
    so.logitKdWeight = oracleTeacher ? 0.0 : c.kd.logitKd.weight; // the oracle has no logits
    so.temperature = c.kd.logitKd.temperature;
    so.optimizer = c.train.optimizer;
    so.lr = c.train.lr;
    so.momentum = c.train.momentum;
    so.weightDecay = c.train.weightDecay;
    so.schedule = c.train.schedule;
    so.warmupEpochs = c.train.warmupEpochs;
    so.epochs = c.train.epochs;
    so.batchSize = c.train.batchSize;
    so.earlyStoppingPatience = c.train.earlyStoppingPatience;
    so.earlyStoppingMinEpochs = c.train.earlyStoppingMinEpochs;
    so.gradClipNorm = c.train.gradClipNorm;
    so.seed = seed;
    so.device = device;
    so.stage = "student " + student + " lambda=" + formatNumber(lambda)
        + " L=" + formatNumber(lengthSec) + " seed=" + std::to_string(seed);
    so.checkpointDir
        = runPath + "/students/" + PipelineResult::cellName(student, lengthSec, lambda, seed);
    so.configHash = c.hash();
    return so;
}

} // namespace tkd
