#include "core/train/Quickstart.h"

#include "core/util/Error.h"

namespace tkd {

ExperimentConfig QuickstartSettings::config() const
{
    if (teacher != TeacherKind::Pretrained && teacher != TeacherKind::Tiny
        && teacher != TeacherKind::Oracle)
        throw Error("--teacher",
            std::string("must be pretrained, oracle or tiny, not '") + teacherKindName(teacher)
                + "'");
    ExperimentConfig c;
    c.name = "quickstart";
    c.seed = 1;
    c.data.source = "builtin";
    c.data.task = 12;
    c.data.corpus.speakers = speakers;
    c.data.corpus.unseenVoices = 60; // flite's voices, which the espeak-only corpus never uses
    c.data.noisy.lengthSec = lengthSec;
    c.teacher.kind = teacher;
    c.teacher.epochs
        = teacher == TeacherKind::Tiny ? teacherEpochs : 0; // the shipped teacher is used as is
    c.teacher.lr = 2e-3;
    c.teacher.batchSize = 32;
    c.teacher.freshNoiseEachEpoch = true;
    c.students = { "tc-resnet8" };
    c.kd.lambdas = { 0.0, 0.25 };
    c.grid.lengthsSec = { lengthSec };
    c.grid.seeds = { seed };
    c.train.optimizer = OptimiserKind::Adam;
    c.train.lr = 3e-3;
    c.train.schedule = ScheduleKind::OneCycle;
    c.train.warmupEpochs = 0;
    c.train.epochs = epochs;
    c.train.batchSize = 64;
    c.train.numThreads = threads;
    c.output.runsDir = runsDir;
    return c;
}

PipelineOptions QuickstartSettings::options(std::vector<std::string> commandLine) const
{
    PipelineOptions o;
    o.commandLine = std::move(commandLine);
    o.teacherSubsampling = 2; // tiny: 199 teacher frames for 8 s, a quarter of the attention cost
    return o;
}

} // namespace tkd
