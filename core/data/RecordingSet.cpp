#include "core/data/RecordingSet.h"

#include "core/audio/AudioFile.h"
#include "core/util/Error.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace fs = std::filesystem;

namespace tkd {

namespace {

bool isWordFolder(const fs::directory_entry &e)
{
    const std::string n = e.path().filename().string();
    std::error_code ec;
    return !n.empty() && n[0] != '.' && n[0] != '_' && e.is_directory(ec);
}

// "yes-012.wav" -> 12 for word "yes"; -1 for any other name.
int takeNumber(const std::string &file, const std::string &word)
{
    const std::string prefix = word + "-";
    if (file.size() <= prefix.size() + 4 || file.compare(0, prefix.size(), prefix) != 0
        || file.compare(file.size() - 4, 4, ".wav") != 0)
        return -1;
    const std::string digits = file.substr(prefix.size(), file.size() - prefix.size() - 4);
    if (digits.empty() || digits.size() > 6
        || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return -1;
    return std::stoi(digits);
}

} // namespace

RecordingSet::RecordingSet(std::string root)
    : m_root(std::move(root))
{
    if (m_root.empty())
        throw Error("recordings folder", "no folder given");
}

void RecordingSet::checkWord(const std::string &word, const std::string &field)
{
    auto fail = [&](const std::string &why) {
        throw Error(field,
            "'" + word + "' " + why
                + " (a keyword names a folder: 1-64 letters, digits, '-' or '_', starting with a "
                  "letter or digit)");
    };
    if (word.empty())
        fail("is empty");
    if (word.size() > 64)
        fail("is longer than 64 characters");
    if (!std::isalnum(static_cast<unsigned char>(word[0])))
        fail("must start with a letter or digit");
    for (char c : word)
        if (!(std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 128)
            && c != '-' && c != '_')
            fail(std::string("contains '") + c + "'");
}

std::vector<std::string> RecordingSet::words() const
{
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::exists(m_root, ec))
        return out;
    if (!fs::is_directory(m_root, ec))
        throw Error(m_root, "is not a folder");
    for (const auto &e : fs::directory_iterator(m_root, ec))
        if (isWordFolder(e))
            out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<RecordedTake> RecordingSet::takes(const std::string &word) const
{
    std::vector<RecordedTake> out;
    const fs::path dir = fs::path(m_root) / word;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return out;
    const std::vector<std::string> exts = audioFileExtensions();
    for (const auto &e : fs::directory_iterator(dir, ec)) {
        if (!e.is_regular_file(ec) || e.path().filename().string()[0] == '.')
            continue;
        std::string ext = e.path().extension().string();
        if (ext.empty())
            continue;
        ext = ext.substr(1);
        std::transform(ext.begin(), ext.end(), ext.begin(),
            [](unsigned char c) { return char(std::tolower(c)); });
        if (std::find(exts.begin(), exts.end(), ext) == exts.end())
            continue;
        RecordedTake t;
        t.word = word;
        t.path = e.path().string();
        t.name = e.path().filename().string();
        try {
            t.seconds = probeAudio(t.path).durationSec();
        } catch (const std::exception &) {
            t.seconds = 0.0; // listed, so the user can see and delete it
        }
        out.push_back(t);
    }
    std::sort(out.begin(), out.end(),
        [](const RecordedTake &a, const RecordedTake &b) { return a.name < b.name; });
    return out;
}

std::vector<RecordedTake> RecordingSet::allTakes() const
{
    std::vector<RecordedTake> out;
    for (const std::string &w : words())
        for (auto &t : takes(w))
            out.push_back(std::move(t));
    return out;
}

std::string RecordingSet::save(const std::string &word, const std::vector<float> &samples) const
{
    checkWord(word);
    if (samples.empty())
        throw Error(word, "the take is empty: nothing to save");
    const fs::path dir = fs::path(m_root) / word;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error(dir.string(), "cannot create the folder: " + ec.message());
    int next = 1;
    for (const auto &e : fs::directory_iterator(dir, ec))
        next = std::max(next, takeNumber(e.path().filename().string(), word) + 1);
    // Claim the name with O_EXCL so two recorders (the studio and tkd record) never share it;
    // writeWav then replaces the empty placeholder atomically.
    for (;; ++next) {
        char name[96];
        std::snprintf(name, sizeof name, "%s-%03d.wav", word.c_str(), next);
        const std::string path = (dir / name).string();
        const int fd
            = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            throw Error(path, std::string("cannot create the take: ") + std::strerror(errno));
        }
        ::close(fd);
        try {
            writeWav(path, samples);
        } catch (...) {
            fs::remove(path, ec);
            throw;
        }
        return path;
    }
}

void RecordingSet::remove(const std::string &path) const
{
    const fs::path p = fs::weakly_canonical(fs::path(path));
    const fs::path root = fs::weakly_canonical(fs::path(m_root));
    const fs::path wordDir = p.parent_path();
    if (wordDir.parent_path() != root || p.extension() != ".wav")
        throw Error(path, "is not a take of " + m_root + " (<word>/<name>.wav); not deleted");
    std::error_code ec;
    if (!fs::is_regular_file(p, ec))
        throw Error(path, "no such take");
    if (!fs::remove(p, ec) || ec)
        throw Error(path, "cannot delete: " + (ec ? ec.message() : std::string("unknown error")));
    if (fs::is_empty(wordDir, ec) && !ec)
        fs::remove(wordDir, ec);
}

} // namespace tkd
