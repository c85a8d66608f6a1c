// `tkd config check FILE` and `tkd config init`: the experiment file's front door on the command
// line. check lists EVERY problem (file:line: key: reason) rather than stopping at the first, so
// one edit-check cycle fixes them all.
#include "Cli.h"

#include "core/train/ExperimentConfig.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <filesystem>
#include <iostream>

namespace {

int runCheck(const std::vector<std::string> &argv)
{
    tkd::cli::Args args("tkd config check FILE [options]",
                        "Validates an experiment file and prints it as resolved (every key, defaults "
                        "filled in, with comments). Exits 1 listing every problem with its file, "
                        "line and key.");
    args.positional("file", "experiment YAML file")
        .flag("quiet", "print nothing when the file is valid");
    if (!args.parse(argv))
        return 0;
    const std::string path = args.get("file");
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
    if (!args.has("quiet")) {
        std::cout << "# resolved from " << path << " (config hash " << config.hash().substr(0, 12)
                  << ")\n"
                  << config.toYaml();
    }
    return 0;
}

int runInit(const std::vector<std::string> &argv)
{
    tkd::cli::Args args("tkd config init [--out FILE] [options]",
                        "Writes the default experiment, every key documented, to FILE (or stdout).");
    args.option("out", "FILE", "where to write it (default: stdout)")
        .flag("force", "overwrite FILE if it exists");
    if (!args.parse(argv))
        return 0;
    const std::string yaml = tkd::ExperimentConfig().toYaml();
    if (!args.has("out") || args.get("out").empty()) {
        std::cout << yaml;
        return 0;
    }
    const std::string out = args.get("out");
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && !args.has("force"))
        throw tkd::Error(out, "already exists (use --force to overwrite it)");
    const std::filesystem::path parent = std::filesystem::path(out).parent_path();
    if (!parent.empty())
        tkd::makeDirs(parent.string());
    tkd::writeFileAtomic(out, yaml);
    std::cout << "wrote " << out << " (check it with: tkd config check " << out << ")\n";
    return 0;
}

const tkd::cli::Registrar regCheck("config check", "validate an experiment file and print it resolved",
                                   runCheck);
const tkd::cli::Registrar regInit("config init", "write the default experiment file", runInit);

} // namespace
