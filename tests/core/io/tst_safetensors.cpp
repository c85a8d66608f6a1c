// safetensors reader/writer: round trips of every dtype, a catalogue of malformed files (each must
// be a tkd::Error naming the file, never a crash), brute-force truncation and byte flips, and
// interop with a file written and read by an independent Python implementation.
#include "core/io/SafeTensors.h"
#include "core/util/Error.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <fstream>

namespace st = tkd::safetensors;

namespace {

std::string le64(uint64_t v)
{
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
        s[i] = char((v >> (8 * i)) & 0xff);
    return s;
}

// A raw file: explicit header text and data bytes, with the length field overridable.
std::string rawFile(const std::string &header, const std::string &data, int64_t lengthField = -1)
{
    return le64(lengthField < 0 ? header.size() : uint64_t(lengthField)) + header + data;
}

void writeBytes(const std::string &path, const std::string &bytes)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), std::streamsize(bytes.size()));
}

std::string readBytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Deterministic values per dtype that survive the dtype exactly.
torch::Tensor sampleTensor(torch::ScalarType type, std::vector<int64_t> shape)
{
    int64_t n = 1;
    for (auto d : shape)
        n *= d;
    auto base = torch::arange(n, torch::kFloat64).reshape(shape);
    switch (type) {
    case torch::kBool:
        return (base.remainder(3) == 0);
    case torch::kUInt8:
        return (base * 7).remainder(256).to(type);
    case torch::kInt8:
        return (base * 5).remainder(256).sub(128).to(type);
    case torch::kFloat16:
    case torch::kBFloat16:
        return (base * 0.25 - 3).to(type);
    default:
        return (base * 1.5 - 7).to(type);
    }
}

QString pythonExe()
{
    for (const char *name : { "python3", "python" }) {
        const QString p = QStandardPaths::findExecutable(name);
        if (!p.isEmpty())
            return p;
    }
    return {};
}

void expectError(const std::string &path, const std::string &reasonPart)
{
    try {
        st::load(path);
    } catch (const tkd::Error &e) {
        const std::string what = e.what();
        QVERIFY2(what.find(path) != std::string::npos, what.c_str());
        QVERIFY2(what.find(reasonPart) != std::string::npos,
            ("expected '" + reasonPart + "' in: " + what).c_str());
        return;
    }
    QFAIL(("no error for " + path).c_str());
}

} // namespace

class TestSafeTensors : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void roundTripEveryDtype_data()
    {
        QTest::addColumn<int>("type");
        QTest::newRow("F64") << int(torch::kFloat64);
        QTest::newRow("F32") << int(torch::kFloat32);
        QTest::newRow("F16") << int(torch::kFloat16);
        QTest::newRow("BF16") << int(torch::kBFloat16);
        QTest::newRow("I64") << int(torch::kInt64);
        QTest::newRow("I32") << int(torch::kInt32);
        QTest::newRow("I16") << int(torch::kInt16);
        QTest::newRow("I8") << int(torch::kInt8);
        QTest::newRow("U8") << int(torch::kUInt8);
        QTest::newRow("BOOL") << int(torch::kBool);
    }
    void roundTripEveryDtype()
    {
        QFETCH(int, type);
        const auto t = torch::ScalarType(type);
        QTemporaryDir dir;
        const std::string path = dir.filePath("rt.safetensors").toStdString();
        const auto a = sampleTensor(t, { 3, 5 });
        const auto scalar = sampleTensor(t, {}).clone(); // 0-d
        const auto empty = torch::zeros({ 0, 4 }, torch::TensorOptions().dtype(t));
        // A non-contiguous view must be written as its logical values.
        const auto view = sampleTensor(t, { 4, 6 }).transpose(0, 1);
        st::save(path, { { "a", a }, { "scalar", scalar }, { "empty", empty }, { "view", view } },
            { { "format", "pt" }, { "note", "round trip" } });
        std::map<std::string, std::string> meta;
        const auto loaded = st::load(path, &meta);
        QCOMPARE(loaded.size(), size_t(4));
        QCOMPARE(QString::fromStdString(meta.at("note")), QString("round trip"));
        for (const auto &[name, ref] : std::map<std::string, torch::Tensor> {
                 { "a", a }, { "scalar", scalar }, { "empty", empty }, { "view", view } }) {
            const auto &got = loaded.at(name);
            QVERIFY(got.scalar_type() == t);
            QVERIFY(got.sizes().vec() == ref.sizes().vec());
            QVERIFY2(torch::equal(got, ref), name.c_str());
        }
        const auto mapped = st::loadMapped(path);
        QCOMPARE(mapped.size(), size_t(4));
        for (const auto &[name, got] : mapped) {
            QVERIFY(got.scalar_type() == t);
            QVERIFY2(torch::equal(got, loaded.at(name)), name.c_str());
        }
        // Entries come sorted by name and the data section starts 8-byte aligned.
        const auto h = st::readHeader(path);
        QCOMPARE(h.entries.size(), size_t(4));
        QCOMPARE(QString::fromStdString(h.entries[0].name), QString("a"));
        QCOMPARE(QString::fromStdString(h.entries[3].name), QString("view"));
        QCOMPARE(h.dataOffset % 8, uint64_t(0));
    }

    void saveRejectsBadInput()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("bad.safetensors").toStdString();
        auto x = torch::ones({ 2 });
        QVERIFY_THROWS_EXCEPTION(tkd::Error, st::save(path, { { "x", x }, { "x", x } }));
        QVERIFY_THROWS_EXCEPTION(tkd::Error, st::save(path, { { "__metadata__", x } }));
        QVERIFY_THROWS_EXCEPTION(
            tkd::Error, st::save(path, { { "c", torch::ones({ 2 }, torch::kComplexFloat) } }));
        QVERIFY(!QFileInfo::exists(QString::fromStdString(path)));
        QVERIFY_THROWS_EXCEPTION(tkd::Error,
            st::save(dir.filePath("no/such/dir/x.safetensors").toStdString(), { { "x", x } }));
    }

    void malformedFiles_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("reason");
        const std::string f32x2 = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
        const std::string eight(8, '\x01');
        auto row = [](const char *name, const std::string &bytes, const char *reason) {
            QTest::newRow(name) << QByteArray(bytes.data(), int(bytes.size())) << QString(reason);
        };
        row("empty file", "", "too short");
        row("five bytes", "\x05\0\0\0\0", "too short");
        row("length zero", rawFile("", ""), "header length is zero");
        row("length huge", rawFile(f32x2, eight, int64_t(1) << 40), "exceeds the 100 MB limit");
        row("length past end", rawFile(f32x2, eight, int64_t(f32x2.size() + 100)),
            "runs past the end");
        row("garbage json", rawFile("{\"x\": [1, 2", eight), "not valid JSON");
        row("not an object", rawFile("[1,2,3]", ""), "does not start with '{'");
        row("trailing junk", rawFile(f32x2 + "}}", eight), "not valid JSON");
        row("entry not object", rawFile(R"({"x":3})", ""), "entry is not an object");
        row("missing dtype", rawFile(R"({"x":{"shape":[2],"data_offsets":[0,8]}})", eight),
            "'dtype'");
        row("dtype not string",
            rawFile(R"({"x":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", eight), "'dtype'");
        row("unknown dtype",
            rawFile(R"({"x":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", eight),
            "unknown dtype 'F8_E4M3'");
        row("missing shape", rawFile(R"({"x":{"dtype":"F32","data_offsets":[0,8]}})", eight),
            "'shape'");
        row("negative shape",
            rawFile(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight),
            "non-negative");
        row("float shape",
            rawFile(R"({"x":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", eight),
            "non-negative");
        row("one offset", rawFile(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", eight),
            "two integers");
        row("offsets strings",
            rawFile(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}})", eight),
            "non-negative integers");
        row("offsets reversed",
            rawFile(R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", eight),
            "end before");
        row("offsets past data",
            rawFile(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", eight),
            "run past the data section");
        row("wrong byte size",
            rawFile(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight),
            "need 3 x 4");
        row("shape overflow",
            rawFile(
                R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})",
                eight),
            "overflows");
        row("overlap",
            rawFile(
                R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                eight),
            "overlaps");
        row("gap", rawFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight),
            "gap in the data section");
        row("trailing data", rawFile(f32x2, eight + "xyz"), "tensors cover 8");
        row("duplicate names",
            rawFile(
                R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                eight),
            "key 'x' twice");
        row("duplicate field",
            rawFile(
                R"({"x":{"dtype":"F32","dtype":"I32","shape":[2],"data_offsets":[0,8]}})", eight),
            "key 'dtype' twice");
        row("metadata not strings", rawFile(R"({"__metadata__":{"epoch":3}})", ""),
            "is not a string");
        row("metadata not object", rawFile(R"({"__metadata__":"x"})", ""), "not an object");
        row("bad utf8", rawFile("{\"\xff\xfe\":{}}", ""), "not valid JSON");
    }
    void malformedFiles()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, reason);
        QTemporaryDir dir;
        const std::string path = dir.filePath("broken.safetensors").toStdString();
        writeBytes(path, bytes.toStdString());
        expectError(path, reason.toStdString());
        // readHeader and loadMapped validate exactly as much.
        QVERIFY_THROWS_EXCEPTION(tkd::Error, st::readHeader(path));
        QVERIFY_THROWS_EXCEPTION(tkd::Error, st::loadMapped(path));
    }

    void missingFileAndFolder()
    {
        QTemporaryDir dir;
        expectError(dir.filePath("nope.safetensors").toStdString(), "no such file");
        expectError(dir.path().toStdString(), "not a regular file");
    }

    // Mapped tensors keep their mapping alive, survive the file being replaced (atomic writes
    // rename over it) and never write back to the file.
    void mappedTensorsAreIndependentOfTheFile()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("m.safetensors").toStdString();
        // 3 x F32 then I64: the I64 tensor starts 4 bytes off 8-byte alignment and is copied.
        const auto odd = torch::arange(3, torch::kFloat32);
        const auto wide = torch::arange(5, torch::kInt64) * 1000;
        st::save(path, { { "odd", odd }, { "wide", wide } });
        auto t = st::loadMapped(path);
        const std::string before = readBytes(path);
        t.at("odd").mul_(2);
        t.at("wide").add_(1);
        QVERIFY(readBytes(path) == before);
        QVERIFY(torch::equal(t.at("odd"), odd * 2));
        QVERIFY(torch::equal(t.at("wide"), wide + 1));
        st::save(path, { { "other", torch::ones({ 2 }) } });
        QVERIFY(torch::equal(t.at("odd"), odd * 2)); // old mapping still valid
        QVERIFY(st::loadMapped(path).count("other"));
    }

    void emptyTensorSetIsValid()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("none.safetensors").toStdString();
        st::save(path, {});
        QVERIFY(st::load(path).empty());
    }

    // Every prefix of a valid file is an error naming it; every single-byte corruption of the
    // header either still parses to something valid or is an error - never a crash or a hang.
    void truncationAndByteFlipsNeverCrash()
    {
        QTemporaryDir dir;
        const std::string good = dir.filePath("good.safetensors").toStdString();
        st::save(good,
            { { "w", sampleTensor(torch::kFloat32, { 3, 2 }) },
                { "b", sampleTensor(torch::kInt16, { 3 }) } },
            { { "k", "v" } });
        const std::string bytes = readBytes(good);
        const std::string path = dir.filePath("cut.safetensors").toStdString();
        for (size_t n = 0; n < bytes.size(); ++n) {
            writeBytes(path, bytes.substr(0, n));
            QVERIFY_THROWS_EXCEPTION(tkd::Error, st::load(path));
        }
        const uint64_t headerEnd = st::readHeader(good).dataOffset;
        int errors = 0, loads = 0;
        for (uint64_t i = 0; i < headerEnd; ++i) {
            for (unsigned char x : { 0x01, 0x20, 0x80 }) {
                std::string b = bytes;
                b[i] = char(b[i] ^ x);
                writeBytes(path, b);
                try {
                    st::load(path);
                    ++loads;
                } catch (const tkd::Error &e) {
                    QVERIFY(std::string(e.what()).find(path) != std::string::npos);
                    ++errors;
                }
            }
        }
        QVERIFY(errors > 0);
        QCOMPARE(errors + loads, int(headerEnd) * 3);
    }

    // Python writes a file by hand (struct, no safetensors package); we load it and compare.
    void interopPythonWritesWeRead()
    {
        const QString py = pythonExe();
        if (py.isEmpty())
            QSKIP("python3 not found");
        QTemporaryDir dir;
        const QString path = dir.filePath("from_python.safetensors");
        const char *script = R"PY(
import json, struct, sys
def f2bf16(x):
    return struct.unpack('<I', struct.pack('<f', x))[0] >> 16
n = 6
tensors = {
  'f32': ('F32', [2, 3], struct.pack('<6f', *[i * 1.5 - 7 for i in range(n)])),
  'f64': ('F64', [3, 2], struct.pack('<6d', *[i * 1.5 - 7 for i in range(n)])),
  'f16': ('F16', [6], struct.pack('<6e', *[i * 0.25 - 3 for i in range(n)])),
  'bf16': ('BF16', [6], struct.pack('<6H', *[f2bf16(i * 0.25 - 3) for i in range(n)])),
  'i64': ('I64', [6], struct.pack('<6q', *[i * 1000000007 - 3 for i in range(n)])),
  'i32': ('I32', [6], struct.pack('<6i', *[-i * 70000 for i in range(n)])),
  'i16': ('I16', [2, 3], struct.pack('<6h', *[i * 300 - 900 for i in range(n)])),
  'i8': ('I8', [6], struct.pack('<6b', *[i * 20 - 60 for i in range(n)])),
  'u8': ('U8', [6], bytes([i * 40 for i in range(n)])),
  'bool': ('BOOL', [6], bytes([i % 2 for i in range(n)])),
}
header, data = {'__metadata__': {'writer': 'python'}}, b''
for name in sorted(tensors):
    dt, shape, raw = tensors[name]
    header[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [len(data), len(data) + len(raw)]}
    data += raw
h = json.dumps(header).encode('utf-8')
h += b' ' * ((8 - len(h) % 8) % 8)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<Q', len(h)) + h + data)
)PY";
        QProcess p;
        p.start(py, { "-c", script, path });
        QVERIFY(p.waitForFinished(30000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());

        std::map<std::string, std::string> meta;
        const auto t = st::load(path.toStdString(), &meta);
        QCOMPARE(QString::fromStdString(meta.at("writer")), QString("python"));
        QCOMPARE(t.size(), size_t(10));
        const auto i = torch::arange(6, torch::kFloat64);
        QVERIFY(torch::equal(t.at("f32"), (i * 1.5 - 7).to(torch::kFloat32).reshape({ 2, 3 })));
        QVERIFY(torch::equal(t.at("f64"), (i * 1.5 - 7).reshape({ 3, 2 })));
        QVERIFY(torch::equal(t.at("f16"), (i * 0.25 - 3).to(torch::kFloat16)));
        QVERIFY(torch::equal(t.at("bf16"), (i * 0.25 - 3).to(torch::kBFloat16)));
        QVERIFY(torch::equal(t.at("i64"), torch::arange(6, torch::kInt64) * 1000000007 - 3));
        QVERIFY(torch::equal(t.at("i32"), torch::arange(6, torch::kInt32) * -70000));
        QVERIFY(torch::equal(
            t.at("i16"), (torch::arange(6, torch::kInt16) * 300 - 900).reshape({ 2, 3 })));
        QVERIFY(torch::equal(t.at("i8"), (torch::arange(6, torch::kInt8) * 20 - 60)));
        QVERIFY(torch::equal(t.at("u8"), (torch::arange(6, torch::kUInt8) * 40)));
        QVERIFY(torch::equal(t.at("bool"), torch::arange(6).remainder(2) == 1));
    }

    // We write; Python parses our bytes by hand and checks every value.
    void interopWeWritePythonReads()
    {
        const QString py = pythonExe();
        if (py.isEmpty())
            QSKIP("python3 not found");
        QTemporaryDir dir;
        const QString path = dir.filePath("from_cpp.safetensors");
        const auto i = torch::arange(6, torch::kFloat64);
        st::save(path.toStdString(),
            { { "f32", (i * 1.5 - 7).to(torch::kFloat32).reshape({ 2, 3 }) },
                { "f16", (i * 0.25 - 3).to(torch::kFloat16) },
                { "bf16", (i * 0.25 - 3).to(torch::kBFloat16) },
                { "i64", torch::arange(6, torch::kInt64) * 1000000007 - 3 },
                { "u8", torch::arange(6, torch::kUInt8) * 40 },
                { "bool", torch::arange(6).remainder(2) == 1 } },
            { { "writer", "tkd" } });
        const char *script = R"PY(
import json, struct, sys
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n].decode('utf-8'))
data = raw[8 + n:]
assert (8 + n) % 8 == 0, 'data section not aligned'
assert header.pop('__metadata__') == {'writer': 'tkd'}
def get(name, fmt):
    e = header[name]
    b, en = e['data_offsets']
    return e['shape'], list(struct.unpack('<%d%s' % (6, fmt), data[b:en]))
def bf16(bits):
    return struct.unpack('<f', struct.pack('<I', bits << 16))[0]
r = range(6)
assert get('f32', 'f') == ([2, 3], [i * 1.5 - 7 for i in r]), get('f32', 'f')
assert get('f16', 'e') == ([6], [i * 0.25 - 3 for i in r])
s, v = get('bf16', 'H'); assert [bf16(x) for x in v] == [i * 0.25 - 3 for i in r], v
assert get('i64', 'q') == ([6], [i * 1000000007 - 3 for i in r])
assert get('u8', 'B') == ([6], [i * 40 for i in r])
assert get('bool', '?') == ([6], [i % 2 == 1 for i in r])
ends = sorted((e['data_offsets'] for e in header.values()))
assert ends[-1][1] == len(data)
print('ok')
)PY";
        QProcess p;
        p.start(py, { "-c", script, path });
        QVERIFY(p.waitForFinished(30000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QCOMPARE(p.readAllStandardOutput().trimmed(), QByteArray("ok"));
    }
};

QTEST_GUILESS_MAIN(TestSafeTensors)
#include "tst_safetensors.moc"
