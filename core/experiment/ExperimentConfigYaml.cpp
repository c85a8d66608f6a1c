#include "core/experiment/ExperimentConfigSchema.h"

#include "core/data/BuiltinCorpus.h"
#include "core/data/DatasetSource.h"
#include "core/data/NoisyDataset.h"
#include "core/distill/AttentionRollout.h"
#include "core/models/StudentRegistry.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <variant>

namespace tkd {

namespace {
// The largest experiment file read: far above any real one (a few KB), far below what makes the
// YAML parser take gigabytes.
constexpr uintmax_t kMaxConfigBytes = 1u << 20;
} // namespace

using namespace configschema;

namespace {

// ---------------------------------------------------------------------------------------------
// Reading YAML

struct Reader
{
    std::string source;
    std::vector<ConfigIssue> &issues;
    std::map<std::string, int> lines; // key path -> 1-based line

    void issue(const std::string &key, const std::string &message, const YAML::Node &at)
    {
        const YAML::Mark m = at.Mark();
        issues.push_back({ key, message, source, m.is_null() ? 0 : m.line + 1 });
    }

    // A quoted scalar ("3", tag "!") or one tagged !!str is a string, never a number.
    static bool isString(const YAML::Node &n)
    {
        return n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str";
    }

    static std::string describe(const YAML::Node &n)
    {
        if (n.IsMap())
            return "a map";
        if (n.IsSequence())
            return "a list";
        if (n.IsNull())
            return "nothing";
        return (isString(n) ? "the string \"" : "'") + n.Scalar() + (isString(n) ? "\"" : "'");
    }

    // Scalars: quoted numbers ("0.1") are strings, not numbers, so they are rejected.
    bool readInt(const std::string &key, const YAML::Node &n, bool seed, int64_t &out)
    {
        if (n.IsScalar() && !isString(n)) {
            const std::string &s = n.Scalar();
            errno = 0;
            char *end = nullptr;
            const long long v = std::strtoll(s.c_str(), &end, 10);
            if (!s.empty() && end && *end == '\0' && errno == 0) {
                if (seed && v < 0) {
                    issue(key, "a seed must be >= 0, got " + s, n);
                    return false;
                }
                if (!seed && (v > INT_MAX || v < INT_MIN)) {
                    issue(key, s + " is too large", n);
                    return false;
                }
                out = v;
                return true;
            }
        }
        issue(
            key, "expected " + typeName(seed ? Type::Seed : Type::Int) + ", got " + describe(n), n);
        return false;
    }

    bool readDouble(const std::string &key, const YAML::Node &n, double &out)
    {
        if (n.IsScalar() && !isString(n)) {
            const std::string &s = n.Scalar();
            if (s == ".inf" || s == "+.inf" || s == "-.inf" || s == ".nan") {
                out = s == ".nan" ? NAN : (s[0] == '-' ? -INFINITY : INFINITY);
                return true;
            }
            char *end = nullptr;
            const double v = std::strtod(s.c_str(), &end);
            if (!s.empty() && end && *end == '\0' && s != "inf" && s != "nan") {
                out = v;
                return true;
            }
        }
        issue(key, "expected " + typeName(Type::Double) + ", got " + describe(n), n);
        return false;
    }

    bool readBool(const std::string &key, const YAML::Node &n, bool &out)
    {
        if (n.IsScalar() && !isString(n)) {
            std::string s = n.Scalar();
            std::transform(s.begin(), s.end(), s.begin(),
                [](unsigned char c) { return char(std::tolower(c)); });
            if (s == "true" || s == "yes" || s == "on") {
                out = true;
                return true;
            }
            if (s == "false" || s == "no" || s == "off") {
                out = false;
                return true;
            }
        }
        issue(key, "expected true or false, got " + describe(n), n);
        return false;
    }

    bool readString(const std::string &key, const YAML::Node &n, std::string &out)
    {
        if (n.IsScalar()) {
            out = n.Scalar();
            return true;
        }
        issue(key, "expected " + typeName(Type::String) + ", got " + describe(n), n);
        return false;
    }

    bool readValue(const Field &field, const YAML::Node &n, Value &out)
    {
        const std::string &key = field.spec.key;
        const Type t = field.spec.type;
        switch (t) {
        case Type::String:
        case Type::Choice: {
            std::string s;
            if (!readString(key, n, s))
                return false;
            out = s;
            return true;
        }
        case Type::Int:
        case Type::Seed: {
            int64_t v = 0;
            if (!readInt(key, n, t == Type::Seed, v))
                return false;
            out = v;
            return true;
        }
        case Type::Double: {
            double v = 0;
            if (!readDouble(key, n, v))
                return false;
            out = v;
            return true;
        }
        case Type::Bool: {
            bool v = false;
            if (!readBool(key, n, v))
                return false;
            out = v;
            return true;
        }
        default:
            break;
        }
        if (!n.IsSequence()) {
            issue(key, "expected " + typeName(t) + ", got " + describe(n), n);
            return false;
        }
        bool ok = true;
        if (t == Type::DoublePair || t == Type::DoubleList) {
            std::vector<double> v;
            for (size_t i = 0; i < n.size(); ++i) {
                const std::string k = key + "[" + std::to_string(i) + "]";
                lines[k] = n[i].Mark().line + 1;
                double d = 0;
                ok = readDouble(k, n[i], d) && ok;
                v.push_back(d);
            }
            if (t == Type::DoublePair && n.size() != 2) {
                issue(key, "expected a pair [lo, hi], got " + std::to_string(n.size()) + " values",
                    n);
                return false;
            }
            out = v;
        } else if (t == Type::IntList || t == Type::SeedList) {
            std::vector<int64_t> v;
            for (size_t i = 0; i < n.size(); ++i) {
                const std::string k = key + "[" + std::to_string(i) + "]";
                lines[k] = n[i].Mark().line + 1;
                int64_t x = 0;
                ok = readInt(k, n[i], t == Type::SeedList, x) && ok;
                v.push_back(x);
            }
            out = v;
        } else {
            std::vector<std::string> v;
            for (size_t i = 0; i < n.size(); ++i) {
                const std::string k = key + "[" + std::to_string(i) + "]";
                lines[k] = n[i].Mark().line + 1;
                std::string s;
                ok = readString(k, n[i], s) && ok;
                v.push_back(s);
            }
            out = v;
        }
        return ok;
    }

    void walk(const YAML::Node &map, const std::string &prefix, ExperimentConfig &config)
    {
        std::set<std::string> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            const YAML::Node keyNode = it->first;
            const YAML::Node value = it->second;
            if (!keyNode.IsScalar()) {
                issue(prefix.empty() ? std::string("experiment") : prefix,
                    "keys must be plain names, got " + describe(keyNode), keyNode);
                continue;
            }
            const std::string path
                = prefix.empty() ? keyNode.Scalar() : prefix + "." + keyNode.Scalar();
            lines[path] = keyNode.Mark().line + 1;
            if (!seen.insert(keyNode.Scalar()).second) {
                issue(path, "appears twice", keyNode);
                continue;
            }
            if (const Field *field = findField(path)) {
                Value v;
                if (value.IsNull()) {
                    // "lr:" with nothing after it: an unfinished edit, never a silent default.
                    issue(path, "has no value (expected " + typeName(field->spec.type) + ")",
                        keyNode);
                } else if (readValue(*field, value, v)) {
                    try {
                        field->set(config, v);
                    } catch (const Error &e) {
                        // The setter's own validation (features.kind, integer features).
                        issue(path, e.reason(), value);
                    }
                }
            } else if (isSection(path)) {
                if (value.IsMap())
                    walk(value, path, config);
                else if (!value.IsNull()) // an empty section keeps its defaults
                    issue(path, "expected a section of keys, got " + describe(value), value);
            } else {
                std::vector<std::string> known;
                for (const Field &f : fields()) {
                    const std::string &k = f.spec.key;
                    if (!prefix.empty() && k.compare(0, prefix.size() + 1, prefix + ".") != 0)
                        continue;
                    std::string rest = prefix.empty() ? k : k.substr(prefix.size() + 1);
                    rest = rest.substr(0, rest.find('.'));
                    if (std::find(known.begin(), known.end(), rest) == known.end())
                        known.push_back(rest);
                }
                std::string list;
                for (const auto &k : known)
                    list += (list.empty() ? "" : ", ") + k;
                issue(path, "unknown key (expected one of: " + list + ")", keyNode);
            }
        }
    }

    // The line of a key, or of the closest enclosing key that has one.
    int lineOf(std::string key) const
    {
        while (!key.empty()) {
            auto it = lines.find(key);
            if (it != lines.end())
                return it->second;
            const size_t cut = key.find_last_of(".[");
            if (cut == std::string::npos)
                break;
            key.resize(cut);
        }
        return 0;
    }
};

// ---------------------------------------------------------------------------------------------
// Writing YAML

bool plainSafe(const std::string &s)
{
    static const std::set<std::string> reserved
        = { "true", "false", "yes", "no", "on", "off", "y", "n", "null" };
    if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z') || reserved.count(s))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
}

std::string quoted(const std::string &s)
{
    if (plainSafe(s))
        return s;
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\r':
            out += "\\r";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            } else {
                out += char(c);
            }
        }
    }
    return out + "\"";
}

std::string valueText(const Value &v)
{
    struct Visitor
    {
        std::string operator()(const std::string &s) const { return quoted(s); }
        std::string operator()(int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const { return exactText(d); }
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(const std::vector<std::string> &l) const
        {
            std::string s;
            for (const auto &x : l)
                s += (s.empty() ? "" : ", ") + quoted(x);
            return "[" + s + "]";
        }
        std::string operator()(const std::vector<double> &l) const
        {
            std::string s;
            for (double x : l)
                s += (s.empty() ? "" : ", ") + exactText(x);
            return "[" + s + "]";
        }
        std::string operator()(const std::vector<int64_t> &l) const
        {
            std::string s;
            for (int64_t x : l)
                s += (s.empty() ? "" : ", ") + std::to_string(x);
            return "[" + s + "]";
        }
    };
    return std::visit(Visitor {}, v);
}

std::vector<std::string> splitKey(const std::string &key)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const size_t dot = key.find('.', start);
        parts.push_back(key.substr(start, dot - start));
        if (dot == std::string::npos)
            return parts;
        start = dot + 1;
    }
}

// Counts the documents of a YAML text, up to two, noting where the second starts. It stands in
// for YAML::LoadAll, which yaml-cpp 0.7 can send into an endless loop of empty documents on a
// malformed text (found by tests/fuzz: fuzz_experiment); one document is all an experiment has.
class DocumentCounter : public YAML::EventHandler
{
public:
    int documents = 0;
    int secondLine = 0; // the line of the second document's first node

    void OnDocumentStart(const YAML::Mark &) override { ++documents; }
    void OnDocumentEnd() override { }
    void OnNull(const YAML::Mark &m, YAML::anchor_t) override { note(m); }
    void OnAlias(const YAML::Mark &m, YAML::anchor_t) override { note(m); }
    void OnScalar(
        const YAML::Mark &m, const std::string &, YAML::anchor_t, const std::string &) override
    {
        note(m);
    }
    void OnSequenceStart(const YAML::Mark &m, const std::string &, YAML::anchor_t,
        YAML::EmitterStyle::value) override
    {
        note(m);
    }
    void OnSequenceEnd() override { }
    void OnMapStart(const YAML::Mark &m, const std::string &, YAML::anchor_t,
        YAML::EmitterStyle::value) override
    {
        note(m);
    }
    void OnMapEnd() override { }

private:
    void note(const YAML::Mark &m)
    {
        if (documents == 2 && secondLine == 0 && !m.is_null())
            secondLine = m.line + 1;
    }
};

// The first document of the text, and how many there are (0, 1 or 2 meaning "more than one").
YAML::Node loadFirstDocument(const std::string &text, DocumentCounter &counter)
{
    std::istringstream in(text);
    YAML::Parser parser(in);
    while (counter.documents < 2 && parser.HandleNextDocument(counter)) { }
    return counter.documents == 0 ? YAML::Node() : YAML::Load(text);
}

} // namespace

ExperimentConfig ExperimentConfig::parse(
    const std::string &text, const std::string &sourceName, std::vector<ConfigIssue> &issues)
{
    ExperimentConfig config;
    if (text.size() > kMaxConfigBytes)
        throw ConfigError({ { "", "is larger than 1 MB: not an experiment file", sourceName, 0 } });
    DocumentCounter counter;
    YAML::Node doc;
    try {
        doc = loadFirstDocument(text, counter);
    } catch (const YAML::DeepRecursion &e) { // yaml-cpp's own bound, reported as "bad file"
        throw ConfigError({ { "",
            "nests lists or maps " + std::to_string(e.depth())
                + " levels deep: not an experiment file",
            sourceName, e.mark.is_null() ? 0 : e.mark.line + 1 } });
    } catch (const YAML::ParserException &e) {
        throw ConfigError({ { "", "YAML syntax error: " + e.msg, sourceName,
            e.mark.is_null() ? 0 : e.mark.line + 1 } });
    } catch (const YAML::Exception &e) {
        throw ConfigError({ { "", std::string("cannot read YAML: ") + e.what(), sourceName, 0 } });
    }
    const size_t firstIssue = issues.size();
    Reader reader { sourceName, issues, {} };
    if (counter.documents == 0 || doc.IsNull()) {
        issues.push_back(
            { "", "holds no settings (expected keys such as name, data, train)", sourceName, 0 });
        return config;
    }
    if (counter.documents > 1)
        issues.push_back({ "", "holds several YAML documents; an experiment is exactly one",
            sourceName, counter.secondLine });
    if (!doc.IsMap()) {
        reader.issue("",
            "expected a map of keys (name, data, train, ...), got " + Reader::describe(doc), doc);
        return config;
    }
    reader.walk(doc, "", config);

    // Range and combination checks on what was read; keys already reported (a wrong type) are
    // not reported twice, since the default standing in for them says nothing about the file.
    std::set<std::string> reported;
    for (size_t i = firstIssue; i < issues.size(); ++i)
        reported.insert(issues[i].key);
    // Lists are capped (a hostile file can hold millions of problems): the first ones, then a
    // count of the rest.
    const size_t cap = ConfigError::kMaxIssues - 1;
    size_t more = issues.size() - firstIssue > cap ? issues.size() - firstIssue - cap : 0;
    issues.resize(std::min(issues.size(), firstIssue + cap));
    for (ConfigIssue issue : config.check()) {
        if (reported.count(issue.key))
            continue;
        if (issues.size() - firstIssue >= cap) {
            ++more;
            continue;
        }
        issue.source = sourceName;
        issue.line = reader.lineOf(issue.key);
        issues.push_back(std::move(issue));
    }
    // File order reads best in an editor or a terminal; issues without a line go last.
    std::stable_sort(issues.begin() + long(firstIssue), issues.end(),
        [](const ConfigIssue &a, const ConfigIssue &b) {
            return (a.line > 0 ? a.line : INT_MAX) < (b.line > 0 ? b.line : INT_MAX);
        });
    if (more > 0)
        issues.push_back(
            { "", "... and " + std::to_string(more) + " more problems", sourceName, 0 });
    return config;
}

ExperimentConfig ExperimentConfig::fromYaml(const std::string &text, const std::string &sourceName)
{
    std::vector<ConfigIssue> issues;
    ExperimentConfig config = parse(text, sourceName, issues);
    if (!issues.empty())
        throw ConfigError(std::move(issues));
    return config;
}

ExperimentConfig ExperimentConfig::load(const std::string &path)
{
    // An experiment is a page of settings: refuse anything larger before parsing it (a 100 MB
    // file took 7 GB and 91 s in the YAML parser).
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)
        && std::filesystem::file_size(path, ec) > kMaxConfigBytes && !ec)
        throw ConfigError({ { "", "is larger than 1 MB: not an experiment file", path, 0 } });
    return fromYaml(readFile(path), path);
}

std::string ExperimentConfig::toYaml() const
{
    return writeYaml(true);
}

std::string ExperimentConfig::hash() const
{
    // Comments left out, so rewording the documentation never changes a config's identity.
    return Sha256::ofString(writeYaml(false));
}

std::string ExperimentConfig::writeYaml(bool comments) const
{
    std::string out = !comments
        ? std::string()
        : "# TKD Studio experiment: one file per experiment, edited by the studio and replayed by\n"
          "# `tkd`. Every key is optional; a missing key takes the default. Check a file with\n"
          "# `tkd config check FILE`; `tkd config init` writes this default.\n";
    std::vector<std::string> open; // section path components currently open
    for (const Field &f : fields()) {
        std::vector<std::string> parts = splitKey(f.spec.key);
        const std::string leaf = parts.back();
        parts.pop_back();
        size_t common = 0;
        while (common < open.size() && common < parts.size() && open[common] == parts[common])
            ++common;
        open.resize(common);
        for (size_t i = common; i < parts.size(); ++i) {
            const std::string indent(2 * i, ' ');
            std::string path;
            for (size_t j = 0; j <= i; ++j)
                path += (j ? "." : "") + parts[j];
            if (comments)
                out += "\n";
            auto help = sectionHelp().find(path);
            if (comments && help != sectionHelp().end())
                out += commentLines(indent, help->second);
            out += indent + parts[i] + ":\n";
            open.push_back(parts[i]);
        }
        const std::string indent(2 * parts.size(), ' ');
        if (comments) {
            if (parts.empty())
                out += "\n";
            std::string help = f.spec.help;
            if (f.spec.hasRange && (f.spec.type == Type::Int || f.spec.type == Type::Double))
                help += " " + rangeText(f.spec);
            out += commentLines(indent, help);
        }
        out += indent + leaf + ": " + valueText(f.get(*this)) + "\n";
    }
    return out;
}

} // namespace tkd
