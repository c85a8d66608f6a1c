#include "Cli.h"

#include "core/util/Error.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace tkd::cli {

Args::Args(std::string usage, std::string summary)
    : m_usage(std::move(usage)), m_summary(std::move(summary))
{
    flag("help", "show this help");
}

Args &Args::option(const std::string &name, const std::string &meta, const std::string &help,
                   const std::string &defaultValue)
{
    m_options.push_back({name, meta.empty() ? "VALUE" : meta, help, defaultValue});
    return *this;
}

Args &Args::flag(const std::string &name, const std::string &help)
{
    m_options.push_back({name, "", help, ""});
    return *this;
}

Args &Args::positional(const std::string &name, const std::string &help, bool required)
{
    m_positionals.emplace_back(name, help);
    m_positionalRequired.push_back(required);
    return *this;
}

bool Args::parse(const std::vector<std::string> &argv)
{
    size_t nextPositional = 0;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string &a = argv[i];
        if (a.rfind("--", 0) == 0 && a.size() > 2) {
            std::string name = a.substr(2), value;
            bool inlineValue = false;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
                inlineValue = true;
            }
            const Option *opt = nullptr;
            for (const auto &o : m_options)
                if (o.name == name)
                    opt = &o;
            if (!opt)
                throw Error("--" + name, "unknown option (see --help)");
            if (opt->meta.empty()) {
                if (inlineValue)
                    throw Error("--" + name, "is a flag and takes no value");
                m_values[name] = "1";
            } else {
                if (!inlineValue) {
                    if (i + 1 >= argv.size())
                        throw Error("--" + name, "needs a value (" + opt->meta + ")");
                    value = argv[++i];
                }
                m_values[name] = value;
            }
            if (name == "help") {
                std::cout << helpText();
                return false;
            }
        } else if (nextPositional < m_positionals.size()) {
            m_values[m_positionals[nextPositional++].first] = a;
        } else {
            m_rest.push_back(a);
        }
    }
    for (size_t p = nextPositional; p < m_positionals.size(); ++p)
        if (m_positionalRequired[p])
            throw Error(m_positionals[p].first, "missing argument (see --help)");
    return true;
}

bool Args::has(const std::string &name) const
{
    if (m_values.count(name))
        return true;
    for (const auto &o : m_options)
        if (o.name == name && !o.defaultValue.empty())
            return true;
    return false;
}

std::string Args::get(const std::string &name) const
{
    if (auto it = m_values.find(name); it != m_values.end())
        return it->second;
    for (const auto &o : m_options)
        if (o.name == name)
            return o.defaultValue;
    return {};
}

int Args::getInt(const std::string &name) const
{
    const std::string v = get(name);
    try {
        size_t used = 0;
        const int x = std::stoi(v, &used);
        if (used == v.size())
            return x;
    } catch (const std::exception &) {
    }
    throw Error("--" + name, "expected an integer, got '" + v + "'");
}

uint64_t Args::getU64(const std::string &name) const
{
    const std::string v = get(name);
    try {
        size_t used = 0;
        const unsigned long long x = std::stoull(v, &used);
        if (used == v.size() && v[0] != '-')
            return x;
    } catch (const std::exception &) {
    }
    throw Error("--" + name, "expected a non-negative integer, got '" + v + "'");
}

double Args::getDouble(const std::string &name) const
{
    const std::string v = get(name);
    try {
        size_t used = 0;
        const double x = std::stod(v, &used);
        if (used == v.size())
            return x;
    } catch (const std::exception &) {
    }
    throw Error("--" + name, "expected a number, got '" + v + "'");
}

std::vector<std::string> Args::getList(const std::string &name) const
{
    std::vector<std::string> out;
    std::stringstream ss(get(name));
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty())
            out.push_back(item);
    return out;
}

std::vector<double> Args::getDoubleList(const std::string &name) const
{
    std::vector<double> out;
    for (const auto &s : getList(name)) {
        try {
            size_t used = 0;
            out.push_back(std::stod(s, &used));
            if (used != s.size())
                throw std::invalid_argument(s);
        } catch (const std::exception &) {
            throw Error("--" + name, "expected comma-separated numbers, got '" + s + "'");
        }
    }
    return out;
}

std::string Args::helpText() const
{
    std::ostringstream os;
    os << "usage: " << m_usage << "\n\n" << m_summary << "\n";
    if (!m_positionals.empty()) {
        os << "\narguments:\n";
        for (const auto &[name, help] : m_positionals)
            os << "  " << name << std::string(name.size() < 24 ? 24 - name.size() : 1, ' ') << help
               << "\n";
    }
    os << "\noptions:\n";
    for (const auto &o : m_options) {
        std::string left = "--" + o.name + (o.meta.empty() ? "" : " " + o.meta);
        os << "  " << left << std::string(left.size() < 24 ? 24 - left.size() : 1, ' ') << o.help;
        if (!o.defaultValue.empty())
            os << " (default: " << o.defaultValue << ")";
        os << "\n";
    }
    return os.str();
}

std::vector<Command> &registry()
{
    static std::vector<Command> commands;
    return commands;
}

Registrar::Registrar(std::string path, std::string summary,
                     std::function<int(const std::vector<std::string> &)> run)
{
    registry().push_back({std::move(path), std::move(summary), std::move(run)});
}

} // namespace tkd::cli
