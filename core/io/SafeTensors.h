#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tkd::safetensors {

// One tensor's entry in a safetensors header, validated.
struct Entry
{
    std::string name;
    std::string dtype; // "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0; // byte offsets in the data section
};

struct Header
{
    std::vector<Entry> entries; // sorted by name
    std::map<std::string, std::string> metadata; // "__metadata__"
    uint64_t dataOffset = 0; // 8 + header length
};

// Reads and validates the header only (for inspection of multi-GB files): header length bounded
// and inside the file, JSON well-formed, dtypes known, offsets inside the data section, sorted
// and non-overlapping, byte sizes = product(shape) * dtype size. Throws tkd::Error(path, reason).
Header readHeader(const std::string &path);

// Loads every tensor (as stored dtype, contiguous, CPU). Same validation as readHeader.
std::map<std::string, torch::Tensor> load(
    const std::string &path, std::map<std::string, std::string> *metadata = nullptr);

// Like load(), but maps the file instead of reading it: the tensors share the mapping (private,
// copy-on-write, so writing to them never touches the file), which lives until the last of them
// is freed. For multi-GB feature caches. Tensors whose offset is not aligned for their dtype are
// copied. Same validation as readHeader.
std::map<std::string, torch::Tensor> loadMapped(
    const std::string &path, std::map<std::string, std::string> *metadata = nullptr);

// A checksum of tensors' names, dtypes, shapes and bytes (16 hex digits; see checksum64), for
// caches to store in their metadata and compare when they load: a corrupted or tampered file
// then reads as a miss and is rebuilt, never served.
std::string checksum(const std::map<std::string, torch::Tensor> &tensors);

// Writes tensors (any CPU dtype above; made contiguous) atomically: temp file + rename.
void save(const std::string &path,
    const std::vector<std::pair<std::string, torch::Tensor>> &tensors,
    const std::map<std::string, std::string> &metadata = {});

} // namespace tkd::safetensors
