#include "core/io/SafeTensors.h"

#include "core/util/AtomicFile.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tkd::safetensors {

namespace {

// nlohmann::json (a std::map) and not ordered_json, whose linear key search made a header of
// 300k tensors take over a minute to read or write; entries come back sorted by name.
using Json = nlohmann::json;

// A header is metadata about tensors, never data: 100 MB is far above any real model's header and
// keeps a hostile length field from making us allocate gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

struct DtypeInfo
{
    const char *name;
    torch::ScalarType type;
    int itemSize;
};

const std::vector<DtypeInfo> &dtypes()
{
    static const std::vector<DtypeInfo> table
        = { { "F64", torch::kFloat64, 8 }, { "F32", torch::kFloat32, 4 },
              { "F16", torch::kFloat16, 2 }, { "BF16", torch::kBFloat16, 2 },
              { "I64", torch::kInt64, 8 }, { "I32", torch::kInt32, 4 }, { "I16", torch::kInt16, 2 },
              { "I8", torch::kInt8, 1 }, { "U8", torch::kUInt8, 1 }, { "BOOL", torch::kBool, 1 } };
    return table;
}

const DtypeInfo *dtypeByName(const std::string &name)
{
    for (const auto &d : dtypes())
        if (name == d.name)
            return &d;
    return nullptr;
}

const DtypeInfo *dtypeByType(torch::ScalarType t)
{
    for (const auto &d : dtypes())
        if (d.type == t)
            return &d;
    return nullptr;
}

bool hostIsLittleEndian()
{
    const uint16_t probe = 1;
    uint8_t first;
    std::memcpy(&first, &probe, 1);
    return first == 1;
}

uint64_t readLe64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

// Parses the JSON text while rejecting duplicate keys at any depth: nlohmann would silently keep
// one of them, and two tensors claiming one name is exactly the ambiguity the format forbids.
Json parseStrict(const std::string &path, const std::string &text)
{
    std::vector<std::set<std::string>> keyStack;
    std::string duplicate;
    auto callback = [&](int, Json::parse_event_t event, Json &parsed) {
        switch (event) {
        case Json::parse_event_t::object_start:
            keyStack.emplace_back();
            break;
        case Json::parse_event_t::object_end:
            if (!keyStack.empty())
                keyStack.pop_back();
            break;
        case Json::parse_event_t::key:
            if (!keyStack.empty() && parsed.is_string()) {
                const std::string k = parsed.get<std::string>();
                if (!keyStack.back().insert(k).second && duplicate.empty())
                    duplicate = k;
            }
            break;
        default:
            break;
        }
        return true;
    };
    Json j;
    try {
        j = Json::parse(text, callback, /*allow_exceptions=*/true);
    } catch (const std::exception &e) {
        throw Error(path, std::string("header is not valid JSON: ") + e.what());
    }
    if (!duplicate.empty())
        throw Error(path, "header has the key '" + duplicate + "' twice");
    return j;
}

uint64_t checkedNumel(
    const std::string &path, const std::string &name, const std::vector<int64_t> &shape)
{
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d != 0 && n > std::numeric_limits<uint64_t>::max() / uint64_t(d))
            throw Error(path, "tensor '" + name + "': shape overflows");
        n *= uint64_t(d);
    }
    return n;
}

Header parseHeader(const std::string &path, const std::string &headerText, uint64_t dataBytes)
{
    if (headerText.empty() || headerText[0] != '{')
        throw Error(path, "header does not start with '{'");
    const Json j = parseStrict(path, headerText);
    if (!j.is_object())
        throw Error(path, "header is not a JSON object");

    Header h;
    h.dataOffset = 8 + headerText.size();
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string &name = it.key();
        const Json &v = it.value();
        if (name == "__metadata__") {
            if (!v.is_object())
                throw Error(path, "__metadata__ is not an object");
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string())
                    throw Error(path, "__metadata__ value '" + m.key() + "' is not a string");
                h.metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string what = "tensor '" + name + "'";
        if (!v.is_object())
            throw Error(path, what + ": entry is not an object");
        if (!v.contains("dtype") || !v["dtype"].is_string())
            throw Error(path, what + ": missing or non-string 'dtype'");
        if (!v.contains("shape") || !v["shape"].is_array())
            throw Error(path, what + ": missing or non-array 'shape'");
        if (!v.contains("data_offsets") || !v["data_offsets"].is_array()
            || v["data_offsets"].size() != 2)
            throw Error(path, what + ": 'data_offsets' must be an array of two integers");

        Entry e;
        e.name = name;
        e.dtype = v["dtype"].get<std::string>();
        const DtypeInfo *dt = dtypeByName(e.dtype);
        if (!dt)
            throw Error(path, what + ": unknown dtype '" + e.dtype + "'");
        for (const auto &d : v["shape"]) {
            if (!d.is_number_unsigned()
                || d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
                throw Error(path, what + ": shape entries must be non-negative integers");
            e.shape.push_back(int64_t(d.get<uint64_t>()));
        }
        for (const auto &o : v["data_offsets"])
            if (!o.is_number_unsigned())
                throw Error(path, what + ": 'data_offsets' must be non-negative integers");
        e.begin = v["data_offsets"][0].get<uint64_t>();
        e.end = v["data_offsets"][1].get<uint64_t>();
        if (e.end < e.begin)
            throw Error(path, what + ": data_offsets end before they begin");
        if (e.end > dataBytes)
            throw Error(path,
                what + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end)
                    + ") run past the data section (" + std::to_string(dataBytes)
                    + " bytes; file truncated?)");
        const uint64_t numel = checkedNumel(path, name, e.shape);
        if (numel > std::numeric_limits<uint64_t>::max() / uint64_t(dt->itemSize)
            || numel * uint64_t(dt->itemSize) != e.end - e.begin)
            throw Error(path,
                what + ": holds " + std::to_string(e.end - e.begin)
                    + " bytes but its shape and dtype need " + std::to_string(numel) + " x "
                    + std::to_string(dt->itemSize));
        h.entries.push_back(std::move(e));
    }

    // The format packs tensors back to back: sorted by offset they must tile the data section
    // exactly, with no gap (hidden bytes) and no overlap (two tensors aliasing one buffer).
    std::vector<const Entry *> byOffset;
    for (const auto &e : h.entries)
        byOffset.push_back(&e);
    std::stable_sort(byOffset.begin(), byOffset.end(), [](const Entry *a, const Entry *b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t cursor = 0;
    for (const Entry *e : byOffset) {
        if (e->begin < cursor)
            throw Error(path,
                "tensor '" + e->name + "' overlaps the tensor before it (offset "
                    + std::to_string(e->begin) + " < " + std::to_string(cursor) + ")");
        if (e->begin > cursor)
            throw Error(path,
                "gap in the data section before tensor '" + e->name + "' (bytes "
                    + std::to_string(cursor) + ".." + std::to_string(e->begin) + ")");
        cursor = e->end;
    }
    if (cursor != dataBytes)
        throw Error(path,
            "data section has " + std::to_string(dataBytes) + " bytes but the tensors cover "
                + std::to_string(cursor));
    return h;
}

// Opens the file, reads and validates the header; leaves `in` positioned at the data section.
Header openAndParse(const std::string &path, std::ifstream &in)
{
    if (!hostIsLittleEndian())
        throw Error(path, "safetensors needs a little-endian host");
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status))
        throw Error(path, "no such file");
    if (!std::filesystem::is_regular_file(status))
        throw Error(path, "not a regular file");
    const uint64_t fileSize = std::filesystem::file_size(path, ec);
    if (ec)
        throw Error(path, "cannot read size: " + ec.message());
    in.open(path, std::ios::binary);
    if (!in)
        throw Error(path, "cannot open for reading");
    if (fileSize < 8)
        throw Error(path,
            "too short for a safetensors file (" + std::to_string(fileSize)
                + " bytes; truncated?)");
    unsigned char lenBytes[8];
    if (!in.read(reinterpret_cast<char *>(lenBytes), 8))
        throw Error(path, "cannot read the header length");
    const uint64_t headerLen = readLe64(lenBytes);
    if (headerLen == 0)
        throw Error(path, "header length is zero");
    // The length is the file's first 8 bytes: never echoed, since the file may not be ours (a
    // checkpoint path symlinked to someone else's file would print their bytes).
    if (headerLen > kMaxHeaderBytes)
        throw Error(path,
            "not a safetensors file (its header length field exceeds the 100 MB limit; corrupt, "
            "or another kind of file)");
    if (headerLen > fileSize - 8)
        throw Error(path,
            "header length field runs past the end of the " + std::to_string(fileSize)
                + "-byte file (truncated, or not a safetensors file)");
    std::string text(headerLen, '\0');
    if (!in.read(text.data(), std::streamsize(headerLen)))
        throw Error(path, "cannot read the header");
    return parseHeader(path, text, fileSize - 8 - headerLen);
}

} // namespace

std::string checksum(const std::map<std::string, torch::Tensor> &tensors)
{
    uint64_t h = 0x746b642d63686b31ull; // "tkd-chk1"
    for (const auto &[name, tensor] : tensors) {
        const torch::Tensor t = tensor.contiguous();
        std::string head = name + "|" + std::string(c10::toString(t.scalar_type()));
        for (int64_t d : t.sizes())
            head += "," + std::to_string(d);
        h = checksum64(head.data(), head.size(), h);
        h = checksum64(t.data_ptr(), size_t(t.numel()) * t.element_size(), h);
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    return hex;
}

Header readHeader(const std::string &path)
{
    std::ifstream in;
    return openAndParse(path, in);
}

std::map<std::string, torch::Tensor> load(
    const std::string &path, std::map<std::string, std::string> *metadata)
{
    std::ifstream in;
    const Header h = openAndParse(path, in);
    std::map<std::string, torch::Tensor> out;
    for (const auto &e : h.entries) {
        const DtypeInfo *dt = dtypeByName(e.dtype);
        torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(dt->type));
        const uint64_t bytes = e.end - e.begin;
        if (bytes > 0) {
            in.seekg(std::streamoff(h.dataOffset + e.begin));
            if (!in.read(static_cast<char *>(t.data_ptr()), std::streamsize(bytes)))
                throw Error(path, "read error in tensor '" + e.name + "'");
        }
        out.emplace(e.name, std::move(t));
    }
    if (metadata)
        *metadata = h.metadata;
    return out;
}

std::map<std::string, torch::Tensor> loadMapped(
    const std::string &path, std::map<std::string, std::string> *metadata)
{
    Header h;
    {
        std::ifstream in;
        h = openAndParse(path, in);
    }
    uint64_t dataEnd = h.dataOffset;
    for (const auto &e : h.entries)
        dataEnd = std::max(dataEnd, h.dataOffset + e.end);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(path, std::string("cannot open for reading: ") + std::strerror(errno));
    struct stat st;
    // The header was validated against the size then; a file swapped since must not be trusted.
    if (::fstat(fd, &st) != 0 || uint64_t(st.st_size) != dataEnd) {
        ::close(fd);
        throw Error(path, "file changed while it was being read");
    }
    std::shared_ptr<void> mapping;
    if (st.st_size > 0) {
        void *base
            = ::mmap(nullptr, size_t(st.st_size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (base == MAP_FAILED) {
            const std::string why = std::strerror(errno);
            ::close(fd);
            throw Error(path, "cannot map: " + why);
        }
        const size_t len = size_t(st.st_size);
        mapping = std::shared_ptr<void>(base, [len](void *p) { ::munmap(p, len); });
    }
    ::close(fd);
    std::map<std::string, torch::Tensor> out;
    for (const auto &e : h.entries) {
        const DtypeInfo *dt = dtypeByName(e.dtype);
        const auto options = torch::TensorOptions().dtype(dt->type);
        const uint64_t bytes = e.end - e.begin;
        char *ptr = mapping ? static_cast<char *>(mapping.get()) + h.dataOffset + e.begin : nullptr;
        torch::Tensor t;
        if (bytes == 0) {
            t = torch::empty(e.shape, options);
        } else if (reinterpret_cast<uintptr_t>(ptr) % uintptr_t(dt->itemSize) != 0) {
            t = torch::empty(e.shape, options);
            std::memcpy(t.data_ptr(), ptr, bytes);
        } else {
            t = torch::from_blob(
                ptr, e.shape, [mapping](void *) {}, options);
        }
        out.emplace(e.name, std::move(t));
    }
    if (metadata)
        *metadata = h.metadata;
    return out;
}

void save(const std::string &path,
    const std::vector<std::pair<std::string, torch::Tensor>> &tensors,
    const std::map<std::string, std::string> &metadata)
{
    if (!hostIsLittleEndian())
        throw Error(path, "safetensors needs a little-endian host");
    std::vector<torch::Tensor> data;
    std::set<std::string> names;
    Json header = Json::object();
    if (!metadata.empty()) {
        Json m = Json::object();
        for (const auto &[k, v] : metadata)
            m[k] = v;
        header["__metadata__"] = m;
    }
    uint64_t offset = 0;
    for (const auto &[name, tensor] : tensors) {
        if (name.empty() || name == "__metadata__")
            throw Error(path, "invalid tensor name '" + name + "'");
        if (!names.insert(name).second)
            throw Error(path, "tensor name '" + name + "' given twice");
        if (!tensor.defined())
            throw Error(path, "tensor '" + name + "' is undefined");
        const DtypeInfo *dt = dtypeByType(tensor.scalar_type());
        if (!dt)
            throw Error(path,
                "tensor '" + name + "' has a dtype safetensors cannot store here ("
                    + std::string(c10::toString(tensor.scalar_type())) + ")");
        torch::Tensor t = tensor.to(torch::kCPU).contiguous();
        const uint64_t bytes = uint64_t(t.numel()) * uint64_t(dt->itemSize);
        Json e = Json::object();
        e["dtype"] = dt->name;
        e["shape"] = t.sizes().vec();
        e["data_offsets"] = { offset, offset + bytes };
        header[name] = e;
        offset += bytes;
        data.push_back(std::move(t));
    }
    std::string text = header.dump();
    // Pad with spaces to a multiple of 8 so the data section starts aligned (as the reference
    // writer does); JSON ignores trailing whitespace.
    text.append((8 - (8 + text.size()) % 8) % 8, ' ');

    AtomicFile file(path);
    unsigned char lenBytes[8];
    for (int i = 0; i < 8; ++i)
        lenBytes[i] = static_cast<unsigned char>((uint64_t(text.size()) >> (8 * i)) & 0xff);
    file.write(lenBytes, 8);
    file.write(text.data(), text.size());
    for (const auto &t : data)
        file.write(t.data_ptr(), size_t(t.numel()) * t.element_size());
    file.commit();
}

} // namespace tkd::safetensors
