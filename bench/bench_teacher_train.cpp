// Teacher training throughput through the product's TeacherTrainer: clips per second of one
// epoch with fresh noise (new placement, SNR and babble mixed, log-mel computed, then every
// training step), measured as the time of 3 epochs minus 1 epoch, halved. The clips come from a
// built-in corpus of a few speakers (synthesised once into the cache).
//
//   bench_teacher_train --model tiny|small --seconds L [--subsampling K] [--speakers N]
//                       [--threads T] [--runtime current|issue] [--nproc R]
// --runtime issue times the runtime the teacher trained under when the 4x target was set
// (glibc's default allocator, torch::dropout's serial mask); current is the product's.
// --nproc R trains data-parallel as `tkd teacher pretrain --nproc R` does: R forked ranks over
// Gloo on 127.0.0.1, T threads each, the same global batch; rank 0 times and prints.
// Prints one JSON line. bench/run_teacher_train.sh compares today's shipped recipe with the
// tiny teacher the 8 s grid trained (tiny, subsampling 2, L = 8 s).
#include "core/data/BuiltinCorpus.h"
#include "core/data/FeatureCache.h"
#include "core/dist/Distributed.h"
#include "core/dist/Rendezvous.h"
#include "core/models/FastDropout.h"
#include "core/train/TeacherTrainer.h"
#include "core/util/Allocator.h"
#include "core/util/FreePort.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

int main(int argc, char **argv)
{
    std::string model = "small", runtime = "current";
    double seconds = 2.0, focus = 0.0;
    int subsampling = 0, speakers = 48, threads = 1, batch = 32, nproc = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--model")
            model = v;
        else if (k == "--seconds")
            seconds = std::atof(v.c_str());
        else if (k == "--subsampling")
            subsampling = std::atoi(v.c_str());
        else if (k == "--speakers")
            speakers = std::atoi(v.c_str());
        else if (k == "--threads")
            threads = std::atoi(v.c_str());
        else if (k == "--batch")
            batch = std::atoi(v.c_str());
        else if (k == "--runtime")
            runtime = v;
        else if (k == "--focus") // the attention-focus term's weight (the recipe's stages 3-4)
            focus = std::atof(v.c_str());
        else if (k == "--nproc")
            nproc = std::atoi(v.c_str());
        else {
            std::fprintf(stderr,
                "usage: bench_teacher_train --model M --seconds L [--subsampling K] "
                "[--speakers N] [--threads T] [--batch B] [--focus W] [--runtime current|issue] "
                "[--nproc R]\n");
            return 2;
        }
    }
    if (runtime != "current" && runtime != "issue") {
        std::fprintf(stderr, "--runtime: '%s' is neither current nor issue\n", runtime.c_str());
        return 2;
    }
    if (nproc < 1 || nproc > 16) {
        std::fprintf(stderr, "--nproc: %d is outside 1..16\n", nproc);
        return 2;
    }
    tkd::BuiltinCorpusConfig cc;
    cc.speakers = speakers;
    cc.firstSpeaker = 100000; // the teacher's own speakers, as in pretraining
    cc.validationFraction = 0.02;
    cc.testFraction = 0.02;
    tkd::BuiltinCorpus corpus(cc);
    corpus.ensure();
    // The ranks fork before this process touches LibTorch, so none inherits its thread pools.
    tkd::Rendezvous rendezvous;
    if (nproc > 1) {
        rendezvous.worldSize = nproc;
        rendezvous.masterPort = tkd::freeLoopbackPort();
        rendezvous.source = "env";
        std::vector<pid_t> pids;
        for (int k = 0; k < nproc; ++k) {
            const pid_t pid = ::fork();
            if (pid == 0) {
                rendezvous.rank = rendezvous.localRank = k;
                break;
            }
            pids.push_back(pid);
        }
        if (int(pids.size()) == nproc) { // the parent: waits for its ranks
            int failed = 0;
            for (const pid_t pid : pids) {
                int st = 0;
                ::waitpid(pid, &st, 0);
                failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
            }
            return failed ? 1 : 0;
        }
    }
    if (runtime == "current")
        tkd::tuneAllocatorForTensors();
    else
        tkd::useTorchDropout(true);
    torch::set_num_threads(threads);
    const std::shared_ptr<tkd::Distributed> dist = tkd::Distributed::join(rendezvous);
    tkd::NoisyConfig nc;
    nc.lengthSec = seconds;
    const tkd::NoisyDataset data(corpus.index12(2), nc);
    const tkd::FeatureCache cache(tkd::cacheRoot() + "/features");
    auto timeRun = [&](int epochs) {
        tkd::TeacherTrainOptions o;
        o.kind = tkd::teacherKindFromName(model);
        o.epochs = epochs;
        o.batchSize = batch;
        o.threads = threads;
        o.spectralSubsampling = subsampling > 0 ? subsampling : 1;
        o.minAccuracy = 0.0;
        o.attentionFocus = focus;
        o.dist = dist.get();
        tkd::TeacherTrainer t(data, cache, o);
        const auto t0 = std::chrono::steady_clock::now();
        const tkd::TeacherResult r = t.run();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    timeRun(1); // warms the feature cache of the fixed splits
    const double one = timeRun(1), three = timeRun(3);
    const double perEpoch = (three - one) / 2.0;
    if (rendezvous.rank != 0)
        return 0;
    const auto n = int64_t(data.size(tkd::Split::Train));
    nlohmann::json j = { { "model", model }, { "seconds", seconds }, { "focus", focus },
        { "runtime", runtime }, { "subsampling", subsampling }, { "threads", threads },
        { "nproc", nproc }, { "batch", batch }, { "train_clips", n }, { "epoch_s", perEpoch },
        { "clips_per_s", double(n) / perEpoch },
        { "audio_s_per_s", double(n) * seconds / perEpoch } };
    std::printf("%s\n", j.dump().c_str());
    return 0;
}
