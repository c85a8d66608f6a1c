#pragma once

#include <string>
#include <vector>

namespace tkd {

// One saved take: <root>/<word>/<name>.wav.
struct RecordedTake
{
    std::string word;
    std::string path;
    std::string name; // file name without folder
    double seconds = 0.0;
};

// The user's own keyword recordings as a folder-per-class dataset: <root>/<word>/<word>-NNN.wav,
// 16 kHz mono PCM16, written atomically (FolderDataset reads the same layout, so `tkd eval
// --data folder:DIR` and experiments can use it as it is). Hidden and _-prefixed folders are not
// words (FolderDataset skips them too; `_adapted/` holds adapted students).
class RecordingSet
{
public:
    explicit RecordingSet(std::string root);
    const std::string &root() const { return m_root; }

    // A keyword names a folder: 1-64 ASCII letters, digits, '-' or '_', starting with a letter or
    // digit. Throws tkd::Error(field, ...) quoting the word and saying what is allowed.
    static void checkWord(const std::string &word, const std::string &field = "word");

    // Words with a folder (sorted), takes of one word or of all (sorted by word, then name).
    // A missing root gives nothing; a root that is a file is a tkd::Error.
    std::vector<std::string> words() const;
    std::vector<RecordedTake> takes(const std::string &word) const;
    std::vector<RecordedTake> allTakes() const;

    // Writes the next free <word>-NNN.wav (creating folders) and returns its path. Never replaces
    // an existing take. tkd::Error naming the word or the file when it cannot.
    std::string save(const std::string &word, const std::vector<float> &samples16k) const;
    // Deletes one take; only .wav files inside a word folder of this set (tkd::Error otherwise).
    // An emptied word folder is removed too.
    void remove(const std::string &path) const;

private:
    std::string m_root;
};

} // namespace tkd
