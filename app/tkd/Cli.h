#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tkd::cli {

// A small declarative argument parser: each command declares its options, and --help is
// generated from the declarations. Unknown options and missing values are errors naming them.
class Args
{
public:
    struct Option
    {
        std::string name;    // without dashes: "seed"
        std::string meta;    // value placeholder ("N", "DIR"); empty for a flag
        std::string help;
        std::string defaultValue;
    };

    Args(std::string usage, std::string summary);
    Args &option(const std::string &name, const std::string &meta, const std::string &help,
                 const std::string &defaultValue = {});
    Args &flag(const std::string &name, const std::string &help);
    Args &positional(const std::string &name, const std::string &help, bool required = true);

    // Parses argv (after the command words). Returns false if --help was asked (help printed).
    // Throws tkd::Error naming the offending argument.
    bool parse(const std::vector<std::string> &argv);

    bool has(const std::string &name) const;
    std::string get(const std::string &name) const;
    int getInt(const std::string &name) const;
    double getDouble(const std::string &name) const;
    uint64_t getU64(const std::string &name) const;
    // Comma-separated list: "0,0.1,0.25" -> {"0","0.1","0.25"}.
    std::vector<std::string> getList(const std::string &name) const;
    std::vector<double> getDoubleList(const std::string &name) const;
    const std::vector<std::string> &rest() const { return m_rest; }

    std::string helpText() const;

private:
    std::string m_usage, m_summary;
    std::vector<Option> m_options;
    std::vector<std::pair<std::string, std::string>> m_positionals;
    std::vector<bool> m_positionalRequired;
    std::map<std::string, std::string> m_values;
    std::vector<std::string> m_rest;
};

struct Command
{
    std::string path;    // "data synth"
    std::string summary; // one line for `tkd --help`
    std::function<int(const std::vector<std::string> &argv)> run;
};

// Commands register themselves from their own .cpp with a static Registrar, so adding a
// command never means editing main.cpp.
std::vector<Command> &registry();
struct Registrar
{
    Registrar(std::string path, std::string summary,
              std::function<int(const std::vector<std::string> &)> run);
};

// Sets LibTorch's intra-op threads (Debian's build starts with 1) from TKD_THREADS or the CPU count.
void configureThreads();

} // namespace tkd::cli
