#pragma once

#include "core/data/Dataset.h"
#include "core/util/Progress.h"

#include <string>
#include <vector>

namespace tkd {

// FSD50K (Fonseca et al.): FSD50K.dev_audio/, FSD50K.eval_audio/ and FSD50K.ground_truth/ with
// dev.csv (fname,labels,mids,split; split "train" or "val"), eval.csv (fname,labels,mids) and
// vocabulary.csv (index,label,mid; no header). Multi-label over the 200 vocabulary classes;
// dev/train -> Train, dev/val -> Validation, eval -> Test.
class Fsd50kDataset
{
public:
    // Throws tkd::Error naming the file (and "file:line" for a bad row): missing folders or CSVs,
    // malformed rows, labels not in the vocabulary, mids that disagree with it, missing audio.
    static DatasetIndex load(const std::string &root, const Progress &progress = {});

    // RFC 4180 CSV: comma-separated, fields optionally in double quotes (which may hold commas,
    // newlines and "" for a quote), CRLF or LF. Each row comes with the line it starts on.
    // Throws tkd::Error("<path>:<line>", ...) for an unterminated quote or text after a
    // closing quote.
    struct CsvRow
    {
        int line = 0;
        std::vector<std::string> fields;
    };
    static std::vector<CsvRow> parseCsv(const std::string &text, const std::string &path);

    static constexpr const char *kDevAudio = "FSD50K.dev_audio";
    static constexpr const char *kEvalAudio = "FSD50K.eval_audio";
    static constexpr const char *kGroundTruth = "FSD50K.ground_truth";
};

} // namespace tkd
