#include "core/audio/AudioFile.h"

#include "core/util/AtomicFile.h"
#include "core/util/Error.h"

#include <sndfile.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include <sys/stat.h>
#include <unistd.h>

namespace tkd {

namespace {

// Frames decoded per block: big enough to amortise calls, small enough that a 6-channel
// block stays in cache and a long file never needs its whole input in memory.
constexpr sf_count_t kBlockFrames = 8192;

std::string sndfileReason(SNDFILE *handle)
{
    std::string why = sf_strerror(handle);
    while (!why.empty() && (why.back() == '.' || why.back() == '\n' || why.back() == ' '))
        why.pop_back();
    return "libsndfile: " + why;
}

// The checks libsndfile would blur into one "System error" (or, for a FIFO, a hang).
void checkReadableFile(const std::string &path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            throw Error(path, "no such file");
        throw Error(path, std::string("cannot open for reading: ") + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode))
        throw Error(path, "is a folder, not an audio file");
    if (!S_ISREG(st.st_mode))
        throw Error(path, "not a regular file");
    if (::access(path.c_str(), R_OK) != 0)
        throw Error(path, std::string("cannot open for reading: ") + std::strerror(errno));
    if (st.st_size == 0)
        throw Error(path, "empty file (0 bytes)");
}

class SndFileReader
{
public:
    explicit SndFileReader(const std::string &path)
        : m_path(path)
    {
        checkReadableFile(path);
        std::memset(&m_info, 0, sizeof m_info);
        m_handle = sf_open(path.c_str(), SFM_READ, &m_info);
        if (!m_handle) {
            const int code = sf_error(nullptr);
            const std::string why = sndfileReason(nullptr);
            if (code == SF_ERR_UNRECOGNISED_FORMAT)
                throw Error(path, "not an audio file that libsndfile can read (" + why + ")");
            if (code == SF_ERR_MALFORMED_FILE)
                throw Error(path, "damaged or truncated audio file (" + why + ")");
            throw Error(path, "cannot open as audio (" + why + ")");
        }
        if (m_info.samplerate <= 0 || m_info.channels <= 0)
            throw Error(path,
                "invalid header: " + std::to_string(m_info.samplerate) + " Hz, "
                    + std::to_string(m_info.channels) + " channels");
    }
    ~SndFileReader()
    {
        if (m_handle)
            sf_close(m_handle);
    }
    SndFileReader(const SndFileReader &) = delete;
    SndFileReader &operator=(const SndFileReader &) = delete;

    SNDFILE *handle() const { return m_handle; }
    const SF_INFO &info() const { return m_info; }
    int major() const { return m_info.format & SF_FORMAT_TYPEMASK; }
    int subtype() const { return m_info.format & SF_FORMAT_SUBMASK; }

private:
    std::string m_path;
    SNDFILE *m_handle = nullptr;
    SF_INFO m_info;
};

bool isPlainSampleSubtype(int subtype)
{
    switch (subtype) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_PCM_16:
    case SF_FORMAT_PCM_24:
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT:
    case SF_FORMAT_DOUBLE:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW:
        return true;
    default:
        return false;
    }
}

uint64_t readUInt(const unsigned char *p, int bytes, bool littleEndian)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= uint64_t(p[littleEndian ? i : bytes - 1 - i]) << (8 * i);
    return v;
}

// libsndfile quietly shortens a WAV/AIFF whose data chunk runs past the end of the file, so
// the frame count the header *declares* comes from walking the chunks ourselves.
// Returns -1 where the header does not say (streamed WAV, unknown layout).
int64_t riffDeclaredFrames(const std::string &path, int subtype)
{
    if (!isPlainSampleSubtype(subtype))
        return -1; // compressed WAV: block align is not bytes per frame
    std::ifstream in(path, std::ios::binary);
    unsigned char head[12];
    if (!in.read(reinterpret_cast<char *>(head), sizeof head))
        return -1;
    const bool rf64 = std::memcmp(head, "RF64", 4) == 0;
    const bool le = std::memcmp(head, "RIFF", 4) == 0 || rf64;
    if (!le && std::memcmp(head, "RIFX", 4) != 0)
        return -1;
    if (std::memcmp(head + 8, "WAVE", 4) != 0)
        return -1;
    in.seekg(0, std::ios::end);
    const uint64_t fileSize = uint64_t(in.tellg());
    uint64_t pos = 12, blockAlign = 0, ds64DataSize = 0;
    for (int chunk = 0; chunk < 4096 && pos + 8 <= fileSize; ++chunk) {
        in.clear();
        in.seekg(std::streamoff(pos));
        unsigned char ch[8 + 24];
        if (!in.read(reinterpret_cast<char *>(ch), 8))
            return -1;
        const uint64_t size = readUInt(ch + 4, 4, le);
        if (std::memcmp(ch, "ds64", 4) == 0 && size >= 24
            && in.read(reinterpret_cast<char *>(ch + 8), 24))
            ds64DataSize = readUInt(ch + 16, 8, true);
        else if (std::memcmp(ch, "fmt ", 4) == 0 && size >= 16
            && in.read(reinterpret_cast<char *>(ch + 8), 16))
            blockAlign = readUInt(ch + 8 + 12, 2, le);
        else if (std::memcmp(ch, "data", 4) == 0) {
            uint64_t declared = size;
            if (size == 0xFFFFFFFFu)
                declared = rf64 ? ds64DataSize : 0;
            if (declared == 0 || blockAlign == 0)
                return -1; // written to a pipe: the length was never filled in
            return int64_t(declared / blockAlign);
        }
        pos += 8 + size + (size & 1);
    }
    return -1;
}

int64_t aiffDeclaredFrames(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    unsigned char head[12];
    if (!in.read(reinterpret_cast<char *>(head), sizeof head) || std::memcmp(head, "FORM", 4) != 0
        || (std::memcmp(head + 8, "AIFF", 4) != 0 && std::memcmp(head + 8, "AIFC", 4) != 0))
        return -1;
    in.seekg(0, std::ios::end);
    const uint64_t fileSize = uint64_t(in.tellg());
    uint64_t pos = 12;
    for (int chunk = 0; chunk < 4096 && pos + 8 <= fileSize; ++chunk) {
        in.clear();
        in.seekg(std::streamoff(pos));
        unsigned char ch[8 + 6];
        if (!in.read(reinterpret_cast<char *>(ch), 8))
            return -1;
        const uint64_t size = readUInt(ch + 4, 4, false);
        if (std::memcmp(ch, "COMM", 4) == 0) {
            if (size < 6 || !in.read(reinterpret_cast<char *>(ch + 8), 6))
                return -1;
            return int64_t(readUInt(ch + 10, 4, false)); // numSampleFrames after numChannels
        }
        pos += 8 + size + (size & 1);
    }
    return -1;
}

// Frames the header promises, or -1 where it does not say.
int64_t declaredFrames(const std::string &path, const SndFileReader &file)
{
    switch (file.major()) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
    case SF_FORMAT_RF64:
        return riffDeclaredFrames(path, file.subtype());
    case SF_FORMAT_AIFF:
        return aiffDeclaredFrames(path);
    default:
        return file.info().frames == SF_COUNT_MAX ? -1 : int64_t(file.info().frames);
    }
}

// An MP3 without a LAME/Xing tag only has an estimated length, so allow a little slack there.
int64_t truncationSlack(const SndFileReader &file, int64_t declared)
{
    return file.major() == SF_FORMAT_MPEG ? std::max<int64_t>(2 * 1152, declared / 50) : 0;
}

[[noreturn]] void throwTruncated(
    const std::string &path, int64_t declared, int64_t present, const std::string &detail = {})
{
    throw Error(path,
        "truncated: the header declares " + std::to_string(declared) + " frames but only "
            + std::to_string(present) + " are present"
            + (detail.empty() ? "" : " (" + detail + ")"));
}

// An Ogg stream cut short loses its final page, and with it the length.
void checkOggComplete(const std::string &path, const SndFileReader &file)
{
    if (file.major() == SF_FORMAT_OGG && file.info().frames == SF_COUNT_MAX)
        throw Error(path, "truncated: the Ogg stream has no final page, so its length is unknown");
}

std::string formatInfoName(int format, int command)
{
    SF_FORMAT_INFO fi;
    std::memset(&fi, 0, sizeof fi);
    fi.format = format;
    if (sf_command(nullptr, command, &fi, sizeof fi) == 0 && fi.name)
        return fi.name;
    return "format 0x" + [format] {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%x", unsigned(format));
        return std::string(buf);
    }();
}

std::string describeFormat(int format)
{
    const int major = format & SF_FORMAT_TYPEMASK;
    const int subtype = format & SF_FORMAT_SUBMASK;
    if (major == SF_FORMAT_MPEG) {
        switch (subtype) {
        case SF_FORMAT_MPEG_LAYER_I:
            return "MP1";
        case SF_FORMAT_MPEG_LAYER_II:
            return "MP2";
        default:
            return "MP3";
        }
    }
    std::string container;
    switch (major) {
    case SF_FORMAT_WAV:
    case SF_FORMAT_WAVEX:
        container = "WAV";
        break;
    case SF_FORMAT_RF64:
        container = "RF64";
        break;
    case SF_FORMAT_AIFF:
        container = "AIFF";
        break;
    case SF_FORMAT_FLAC:
        container = "FLAC";
        break;
    case SF_FORMAT_OGG:
        container = "OGG";
        break;
    default: {
        SF_FORMAT_INFO fi;
        std::memset(&fi, 0, sizeof fi);
        int count = 0;
        sf_command(nullptr, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof count);
        for (int k = 0; k < count && container.empty(); ++k) {
            fi.format = k;
            if (sf_command(nullptr, SFC_GET_FORMAT_MAJOR, &fi, sizeof fi) == 0
                && fi.format == major)
                container = fi.name;
        }
        if (container.empty())
            container = "audio";
    }
    }
    std::string sample;
    switch (subtype) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
        sample = "PCM 8-bit";
        break;
    case SF_FORMAT_PCM_16:
        sample = "PCM 16-bit";
        break;
    case SF_FORMAT_PCM_24:
        sample = "PCM 24-bit";
        break;
    case SF_FORMAT_PCM_32:
        sample = "PCM 32-bit";
        break;
    case SF_FORMAT_FLOAT:
        sample = "float 32-bit";
        break;
    case SF_FORMAT_DOUBLE:
        sample = "float 64-bit";
        break;
    case SF_FORMAT_ULAW:
        sample = "u-law";
        break;
    case SF_FORMAT_ALAW:
        sample = "A-law";
        break;
    case SF_FORMAT_VORBIS:
        sample = "Vorbis";
        break;
    case SF_FORMAT_OPUS:
        sample = "Opus";
        break;
    default:
        sample = formatInfoName(subtype, SFC_GET_FORMAT_INFO);
    }
    if (major == SF_FORMAT_FLAC && sample.rfind("PCM ", 0) == 0)
        sample = sample.substr(4); // "FLAC 24-bit": FLAC is always integer PCM
    return container + " " + sample;
}

// Float files hold audio in about [-1, 1]; a sample beyond this is not audio (a fuzzer's
// 3.4e38 became infinity in the resampler's sums), so it is refused like NaN.
constexpr float kMaxSampleMagnitude = 1e4f;

bool validSample(float v)
{
    return std::isfinite(v) && std::abs(v) <= kMaxSampleMagnitude;
}

[[noreturn]] void throwInvalidSample(
    const std::string &path, float value, int64_t frame, int channel, int sampleRate)
{
    char at[96];
    std::snprintf(at, sizeof at, "frame %lld (%.3f s), channel %d", (long long)frame,
        double(frame) / sampleRate, channel + 1);
    char what[64];
    if (std::isnan(value))
        std::snprintf(what, sizeof what, "NaN");
    else if (std::isinf(value))
        std::snprintf(what, sizeof what, "infinity");
    else
        std::snprintf(what, sizeof what, "%.3g, beyond any audio level (|x| <= %g)", double(value),
            double(kMaxSampleMagnitude));
    throw Error(path, std::string("invalid sample: ") + what + " at " + at);
}

} // namespace

AudioInfo probeAudio(const std::string &path)
{
    SndFileReader file(path);
    const SF_INFO &info = file.info();
    checkOggComplete(path, file);
    int64_t frames = info.frames;
    const int64_t declared = declaredFrames(path, file);
    // For WAV/AIFF libsndfile sizes `frames` from what is present, so this is header-only.
    if (declared > 0 && frames != SF_COUNT_MAX
        && frames + truncationSlack(file, declared) < declared)
        throwTruncated(path, declared, frames);
    if (frames == SF_COUNT_MAX) {
        // The header does not state the length (rare streamed files): count by decoding.
        std::vector<float> block(size_t(kBlockFrames) * size_t(info.channels));
        frames = 0;
        sf_count_t got;
        while ((got = sf_readf_float(file.handle(), block.data(), kBlockFrames)) > 0)
            frames += got;
    }
    if (frames <= 0)
        throw Error(path, "contains no audio (0 frames)");
    AudioInfo result;
    result.sampleRate = info.samplerate;
    result.channels = info.channels;
    result.frames = frames;
    result.format = describeFormat(info.format);
    return result;
}

std::vector<float> loadAudio(const std::string &path, int targetRate, ResampleQuality quality)
{
    SndFileReader file(path);
    const SF_INFO &info = file.info();
    checkOggComplete(path, file);
    const int64_t declared = declaredFrames(path, file);
    const int channels = info.channels;

    std::unique_ptr<Resampler> resampler;
    try {
        resampler
            = std::make_unique<Resampler>(double(info.samplerate), double(targetRate), quality);
    } catch (const Error &e) {
        throw Error(path, "cannot resample: " + e.reason());
    }

    // A header may declare far more frames than the file holds (4G in a 1 KB file): refuse
    // that before sizing anything from it, and never reserve more than a bounded head start.
    const int64_t present = info.frames == SF_COUNT_MAX ? -1 : int64_t(info.frames);
    if (declared > 0 && present >= 0 && present + truncationSlack(file, declared) < declared
        && file.major() != SF_FORMAT_MPEG)
        throwTruncated(path, declared, present);
    std::vector<float> output;
    const int64_t expected = present >= 0 ? present : declared;
    if (expected > 0)
        output.reserve(
            size_t(std::min<int64_t>(
                Resampler::outputLength(expected, info.samplerate, targetRate), int64_t(1) << 24))
            + 1);
    std::vector<float> block(size_t(kBlockFrames) * size_t(channels));
    std::vector<float> mono(static_cast<size_t>(kBlockFrames));
    int64_t framesRead = 0;
    for (;;) {
        const sf_count_t got = sf_readf_float(file.handle(), block.data(), kBlockFrames);
        if (got <= 0)
            break;
        const size_t samples = size_t(got) * size_t(channels);
        for (size_t i = 0; i < samples; ++i)
            if (!validSample(block[i]))
                throwInvalidSample(path, block[i], framesRead + int64_t(i / size_t(channels)),
                    int(i % size_t(channels)), info.samplerate);
        if (channels == 1) {
            std::copy(block.begin(), block.begin() + got, mono.begin());
        } else {
            const float scale = 1.0f / float(channels);
            for (sf_count_t f = 0; f < got; ++f) {
                const float *frame = block.data() + size_t(f) * size_t(channels);
                float sum = 0.0f;
                for (int c = 0; c < channels; ++c)
                    sum += frame[c];
                mono[size_t(f)] = sum * scale;
            }
        }
        resampler->process(mono.data(), size_t(got), output);
        framesRead += got;
    }
    // A decoder that loses sync on a cut-off file is a truncation first, a decode error second.
    const bool decodeFailed = sf_error(file.handle()) != SF_ERR_NO_ERROR;
    const std::string decodeError = decodeFailed ? sndfileReason(file.handle()) : std::string();
    if (declared > 0 && framesRead + truncationSlack(file, declared) < declared)
        throwTruncated(path, declared, framesRead, decodeError);
    if (decodeFailed)
        throw Error(path,
            "decode error after " + std::to_string(framesRead) + " frames (" + decodeError + ")");
    if (framesRead == 0)
        throw Error(path, "contains no audio (0 frames)");
    resampler->finish(output);
    return output;
}

std::vector<float> resample(
    const float *samples, size_t n, double fromRate, double toRate, ResampleQuality quality)
{
    Resampler resampler(fromRate, toRate, quality);
    std::vector<float> output;
    output.reserve(size_t(Resampler::outputLength(int64_t(n), fromRate, toRate)) + 1);
    resampler.process(samples, n, output);
    resampler.finish(output);
    return output;
}

std::vector<std::string> audioFileExtensions()
{
    std::vector<std::string> exts;
    int count = 0;
    sf_command(nullptr, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof count);
    for (int k = 0; k < count; ++k) {
        SF_FORMAT_INFO fi;
        std::memset(&fi, 0, sizeof fi);
        fi.format = k;
        if (sf_command(nullptr, SFC_GET_FORMAT_MAJOR, &fi, sizeof fi) != 0 || !fi.extension)
            continue;
        if ((fi.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RAW)
            continue; // headerless: nothing to decode it by
        std::string ext = fi.extension;
        std::transform(ext.begin(), ext.end(), ext.begin(),
            [](unsigned char c) { return char(std::tolower(c)); });
        exts.push_back(ext);
        switch (fi.format & SF_FORMAT_TYPEMASK) {
        case SF_FORMAT_OGG:
            exts.insert(exts.end(), { "ogg", "oga", "opus" });
            break;
        case SF_FORMAT_AIFF:
            exts.insert(exts.end(), { "aif", "aiff", "aifc" });
            break;
        case SF_FORMAT_MPEG:
            exts.insert(exts.end(), { "mp3", "mp2", "mp1" });
            break;
        default:
            break;
        }
    }
    std::sort(exts.begin(), exts.end());
    exts.erase(std::unique(exts.begin(), exts.end()), exts.end());
    return exts;
}

void writeWav(
    const std::string &path, const float *samples, size_t n, int sampleRate, WavFormat format)
{
    if (sampleRate <= 0)
        throw Error(
            path, "cannot write: sample rate must be positive, got " + std::to_string(sampleRate));
    if (n > 0 && !samples)
        throw Error(path, "cannot write: no sample data");
    for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(samples[i]))
            throw Error(path,
                std::string("refusing to write: sample ") + std::to_string(i) + " is "
                    + (std::isnan(samples[i]) ? "NaN" : "infinite"));

    std::string tmp;
    const int fd = createTempBeside(path, tmp); // O_EXCL | O_NOFOLLOW: see AtomicFile.h
    SF_INFO info;
    std::memset(&info, 0, sizeof info);
    info.samplerate = sampleRate;
    info.channels = 1;
    info.format
        = SF_FORMAT_WAV | (format == WavFormat::Float32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
    // The descriptor stays ours (close_desc false): closed below on every path, exactly once.
    SNDFILE *handle = sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE);
    if (!handle) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error(path, "cannot write (" + sndfileReason(nullptr) + ")");
    }
    auto fail = [&](const std::string &why) {
        sf_close(handle);
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error(path, why);
    };
    sf_command(handle, SFC_SET_CLIPPING, nullptr, SF_TRUE); // clip, never wrap around
    size_t written = 0;
    while (written < n) {
        const sf_count_t chunk = sf_count_t(std::min<size_t>(n - written, 1 << 16));
        const sf_count_t w = sf_writef_float(handle, samples + written, chunk);
        if (w != chunk)
            fail("write failed after "
                + std::to_string(written + size_t(std::max<sf_count_t>(w, 0))) + " samples ("
                + sndfileReason(handle) + ")");
        written += size_t(w);
    }
    sf_write_sync(handle); // fsync before the rename makes the new file visible
    const int closed = sf_close(handle);
    if (::close(fd) != 0 || closed != 0) {
        ::unlink(tmp.c_str());
        throw Error(path, "cannot finish writing (" + sndfileReason(nullptr) + ")");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw Error(path, "cannot move into place: " + why);
    }
}

} // namespace tkd
