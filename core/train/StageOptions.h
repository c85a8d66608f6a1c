#pragma once

#include "core/experiment/ExperimentConfig.h"
#include "core/train/Pipeline.h"
#include "core/train/StudentTrainer.h"
#include "core/train/TeacherTrainer.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace tkd {

// The experiment's settings as the options of one stage's trainer: the one place each setting is
// copied from the config (and from the pipeline's options), for every front end alike.

// The teacher of clip length `lengthSec`, writing into runPath/teacher-L<length>.
TeacherTrainOptions teacherOptions(const ExperimentConfig &c, const PipelineOptions &o,
    double lengthSec, const std::string &runPath, torch::Device device);

// One student cell, writing into runPath/students/<cell name>.
StudentTrainOptions studentOptions(const ExperimentConfig &c, const std::string &student,
    double lambda, uint64_t seed, double lengthSec, bool oracleTeacher, const std::string &runPath,
    torch::Device device);

} // namespace tkd
