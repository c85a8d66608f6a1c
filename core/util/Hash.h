#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tkd {

// Content hashing for cache keys and provenance (dataset config, teacher weights, features).
// SHA-256: collisions are not a concern and the digests match `sha256sum` for files.
class Sha256
{
public:
    Sha256();
    Sha256 &update(const void *data, size_t size);
    Sha256 &update(std::string_view text) { return update(text.data(), text.size()); }
    // Hex digest (64 chars). The object must not be updated afterwards.
    std::string hexDigest();

    static std::string ofString(std::string_view text);
    // Hashes a file's bytes; throws tkd::Error naming the file if it cannot be read.
    static std::string ofFile(const std::string &path);

private:
    void block(const uint8_t *p);
    uint32_t m_h[8];
    uint8_t m_buf[64];
    size_t m_bufLen = 0;
    uint64_t m_totalBits = 0;
    bool m_final = false;
};

// A fast 64-bit checksum (not cryptographic) for telling a cache file's bytes from corrupted or
// tampered ones: four multiply-rotate lanes over 8-byte words, several GB/s, so checking a
// multi-GB feature cache costs about what reading it does. Chain calls through `seed`.
uint64_t checksum64(const void *data, size_t size, uint64_t seed = 0);

} // namespace tkd
