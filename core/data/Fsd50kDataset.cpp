#include "core/data/Fsd50kDataset.h"

#include "core/data/DatasetRoot.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace tkd {

namespace {

struct Vocabulary
{
    std::vector<std::string> labels;
    std::vector<std::string> mids;
    std::map<std::string, int> indexOf;
};

bool isWholeNumber(const std::string &s)
{
    return !s.empty() && s.size() < 10
        && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> splitList(const std::string &s)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos)
            comma = s.size();
        out.push_back(s.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

std::string where(const fs::path &file, int line)
{
    return file.string() + ":" + std::to_string(line);
}

Vocabulary readVocabulary(const fs::path &path)
{
    const auto rows = Fsd50kDataset::parseCsv(readFile(path.string()), path.string());
    Vocabulary v;
    std::map<int, std::pair<std::string, std::string>> byIndex;
    for (const auto &r : rows) {
        if (r.line == rows.front().line && r.fields.size() == 3 && r.fields[0] == "index")
            continue; // tolerate a header although the official file has none
        if (r.fields.size() != 3)
            throw Error(where(path, r.line),
                "expected 3 fields (index,label,mid), got " + std::to_string(r.fields.size()));
        if (!isWholeNumber(r.fields[0]))
            throw Error(where(path, r.line), "index '" + r.fields[0] + "' is not a whole number");
        if (r.fields[1].empty())
            throw Error(where(path, r.line), "empty label");
        const int idx = std::stoi(r.fields[0]);
        if (!byIndex.emplace(idx, std::make_pair(r.fields[1], r.fields[2])).second)
            throw Error(where(path, r.line), "index " + r.fields[0] + " appears twice");
        if (!v.indexOf.emplace(r.fields[1], idx).second)
            throw Error(where(path, r.line), "label '" + r.fields[1] + "' appears twice");
    }
    if (byIndex.empty())
        throw Error(path.string(), "no classes");
    int expect = 0;
    for (const auto &[idx, lm] : byIndex) {
        if (idx != expect)
            throw Error(path.string(),
                "indices must run 0.." + std::to_string(byIndex.size() - 1) + " without gaps; "
                    + std::to_string(expect) + " is missing");
        v.labels.push_back(lm.first);
        v.mids.push_back(lm.second);
        ++expect;
    }
    return v;
}

// Reads dev.csv or eval.csv into clips. splitColumn: whether the file has the "split" column.
void readGroundTruth(const fs::path &csv, const fs::path &audioDir, bool hasSplitColumn,
    const Vocabulary &vocab, DatasetIndex &index, std::set<std::string> &seen,
    const Progress &progress)
{
    const auto rows = Fsd50kDataset::parseCsv(readFile(csv.string()), csv.string());
    if (rows.empty())
        throw Error(csv.string(), "empty file (expected a header row)");
    const auto &header = rows.front().fields;
    auto column = [&](const std::string &name, bool required) {
        auto it = std::find(header.begin(), header.end(), name);
        if (it == header.end()) {
            if (required)
                throw Error(where(csv, rows.front().line), "header has no '" + name + "' column");
            return -1;
        }
        return int(it - header.begin());
    };
    const int fnameCol = column("fname", true);
    const int labelsCol = column("labels", true);
    const int midsCol = column("mids", false);
    const int splitCol = hasSplitColumn ? column("split", true) : -1;

    for (size_t r = 1; r < rows.size(); ++r) {
        if (r % 2048 == 0) {
            progress.throwIfCancelled();
            progress.report(
                "read " + csv.filename().string(), int64_t(r), int64_t(rows.size() - 1));
        }
        const auto &row = rows[r];
        const std::string at = where(csv, row.line);
        if (row.fields.size() != header.size())
            throw Error(at,
                "expected " + std::to_string(header.size()) + " fields, got "
                    + std::to_string(row.fields.size()));
        const std::string &fname = row.fields[size_t(fnameCol)];
        if (fname.empty() || fname.find('/') != std::string::npos || fname == "." || fname == "..")
            throw Error(at, "invalid fname '" + fname + "'");
        const auto names = splitList(row.fields[size_t(labelsCol)]);
        std::vector<int> labels;
        for (const auto &n : names) {
            auto it = vocab.indexOf.find(n);
            if (it == vocab.indexOf.end())
                throw Error(at,
                    n.empty() ? std::string("empty label")
                              : "unknown label '" + n + "' (not in vocabulary.csv)");
            labels.push_back(it->second);
        }
        if (midsCol >= 0) {
            const auto mids = splitList(row.fields[size_t(midsCol)]);
            if (mids.size() != names.size())
                throw Error(at,
                    std::to_string(names.size()) + " labels but " + std::to_string(mids.size())
                        + " mids");
            for (size_t i = 0; i < mids.size(); ++i)
                if (mids[i] != vocab.mids[size_t(labels[i])])
                    throw Error(at,
                        "mid '" + mids[i] + "' disagrees with vocabulary.csv ('" + names[i]
                            + "' is " + vocab.mids[size_t(labels[i])] + ")");
        }
        Split split = Split::Test;
        if (splitCol >= 0) {
            const std::string &s = row.fields[size_t(splitCol)];
            if (s == "train")
                split = Split::Train;
            else if (s == "val")
                split = Split::Validation;
            else
                throw Error(at, "split '" + s + "' is neither 'train' nor 'val'");
        }
        const fs::path audio = audioDir / (fname + ".wav");
        if (!seen.insert(audio.string()).second)
            throw Error(at, "clip '" + fname + "' is listed twice");
        if (!fs::is_regular_file(audio))
            throw Error(at, "audio file " + audio.string() + " does not exist");
        std::sort(labels.begin(), labels.end());
        labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
        ClipRef c;
        c.path = audio.string();
        c.labels = std::move(labels);
        c.split = split;
        c.word = row.fields[size_t(labelsCol)];
        index.clips.push_back(std::move(c));
    }
    progress.report(
        "read " + csv.filename().string(), int64_t(rows.size() - 1), int64_t(rows.size() - 1));
}

} // namespace

std::vector<Fsd50kDataset::CsvRow> Fsd50kDataset::parseCsv(
    const std::string &text, const std::string &path)
{
    std::vector<CsvRow> rows;
    // A NUL byte is no text: it would cut a file name short where C APIs read it.
    if (const size_t nul = text.find('\0'); nul != std::string::npos)
        throw Error(path + ":"
                + std::to_string(1 + std::count(text.begin(), text.begin() + long(nul), '\n')),
            "holds a NUL byte (not a text CSV file)");
    size_t i = 0;
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
        i = 3; // UTF-8 byte-order mark
    int line = 1;
    const size_t n = text.size();
    while (i < n) {
        CsvRow row;
        row.line = line;
        bool endOfRow = false;
        while (!endOfRow) {
            std::string field;
            if (i < n && text[i] == '"') {
                const int openLine = line;
                ++i;
                bool closed = false;
                while (i < n) {
                    const char c = text[i++];
                    if (c == '"') {
                        if (i < n && text[i] == '"') {
                            field += '"';
                            ++i;
                        } else {
                            closed = true;
                            break;
                        }
                    } else {
                        if (c == '\n')
                            ++line;
                        field += c;
                    }
                }
                if (!closed)
                    throw Error(path + ":" + std::to_string(openLine), "unterminated quoted field");
                if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                    throw Error(path + ":" + std::to_string(line), "text after a closing quote");
            } else {
                while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                    if (text[i] == '"')
                        throw Error(path + ":" + std::to_string(line),
                            "stray quote inside an unquoted field");
                    field += text[i++];
                }
            }
            row.fields.push_back(std::move(field));
            if (i < n && text[i] == ',') {
                ++i;
            } else {
                if (i < n && text[i] == '\r')
                    ++i;
                if (i < n && text[i] == '\n')
                    ++i;
                ++line;
                endOfRow = true;
            }
        }
        if (!(row.fields.size() == 1 && row.fields[0].empty())) // blank line
            rows.push_back(std::move(row));
    }
    return rows;
}

DatasetIndex Fsd50kDataset::load(const std::string &rootArg, const Progress &progress)
{
    const DatasetRoot checked = DatasetRoot::open(rootArg, "FSD50K");
    const fs::path &root = checked.path;
    const std::string &rootStr = checked.display;
    for (const char *sub : { kGroundTruth, kDevAudio, kEvalAudio })
        if (!fs::is_directory(root / sub))
            throw Error((root / sub).string(),
                "missing folder (expected the FSD50K layout: "
                "FSD50K.dev_audio, FSD50K.eval_audio, FSD50K.ground_truth)");
    const fs::path gt = root / kGroundTruth;
    for (const char *f : { "vocabulary.csv", "dev.csv", "eval.csv" })
        if (!fs::is_regular_file(gt / f))
            throw Error((gt / f).string(), "missing file");

    const Vocabulary vocab = readVocabulary(gt / "vocabulary.csv");
    DatasetIndex index;
    index.name = "fsd50k";
    index.root = rootStr;
    index.multiLabel = true;
    index.classes = vocab.labels;
    std::set<std::string> seen;
    readGroundTruth(gt / "dev.csv", root / kDevAudio, true, vocab, index, seen, progress);
    readGroundTruth(gt / "eval.csv", root / kEvalAudio, false, vocab, index, seen, progress);
    if (index.clips.empty())
        throw Error(gt.string(), "dev.csv and eval.csv list no clips");
    index.contentHash = listingHash(index);
    return index;
}

} // namespace tkd
