// `tkd config check FILE` and `tkd config init`: the experiment file's front door on the command
// line. check lists EVERY problem (file:line: key: reason) rather than stopping at the first, so
// one edit-check cycle fixes them all.
#include "Cli.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <filesystem>
#include <iostream>

namespace {

struct CheckOptions
{
    std::string file;
    bool quiet = false;
};

int runCheck(const CheckOptions &o)
{
    const std::string &path = o.file;
    const std::string text = tkd::readFile(path);
    std::vector<tkd::ConfigIssue> issues;
    tkd::ExperimentConfig config;
    try {
        config = tkd::ExperimentConfig::parse(text, path, issues);
    } catch (const tkd::ConfigError &e) {
        issues = e.issues(); // YAML syntax error
    }
    if (!issues.empty()) {
        for (const tkd::ConfigIssue &issue : issues)
            std::cerr << "tkd config check: error: " << issue.toString() << "\n";
        std::cerr << "tkd config check: " << path << ": " << issues.size() << " problem"
                  << (issues.size() == 1 ? "" : "s") << "\n";
        return 1;
    }
    if (!o.quiet) {
        std::cout << "# resolved from " << path << " (config hash " << config.hash().substr(0, 12)
                  << ")\n"
                  << config.toYaml();
    }
    return 0;
}

struct InitOptions
{
    std::string out;
    bool force = false;
};

int runInit(const InitOptions &o)
{
    const std::string yaml = tkd::ExperimentConfig().toYaml();
    if (o.out.empty()) {
        std::cout << yaml;
        return 0;
    }
    const std::string &out = o.out;
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && !o.force)
        throw tkd::Error(out, "already exists (use --force to overwrite it)");
    const std::filesystem::path parent = std::filesystem::path(out).parent_path();
    if (!parent.empty())
        tkd::makeDirs(parent.string());
    tkd::writeFileAtomic(out, yaml);
    std::cout << "wrote " << out << " (check it with: tkd config check " << out << ")\n";
    return 0;
}

const tkd::cli::Registrar regCheck("config check",
    "validate an experiment file and print it resolved",
    "Validates an experiment file and prints it as resolved (every key, defaults filled in, with "
    "comments). Exits 1 listing every problem with its file, line and key.",
    [](CLI::App &app) {
        auto o = std::make_shared<CheckOptions>();
        app.add_option("file", o->file, "experiment YAML file")->required();
        app.add_flag("--quiet", o->quiet, "print nothing when the file is valid");
        return [o] { return runCheck(*o); };
    });
const tkd::cli::Registrar regInit("config init", "write the default experiment file",
    "Writes the default experiment, every key documented, to FILE (or stdout).", [](CLI::App &app) {
        auto o = std::make_shared<InitOptions>();
        app.add_option("--out", o->out, "where to write it (default: stdout)");
        app.add_flag("--force", o->force, "overwrite FILE if it exists");
        return [o] { return runInit(*o); };
    });

} // namespace
