// tkd: the headless command line of TKD Studio. Each command lives in its own *Commands.cpp and
// registers itself (Cli.h); this file only dispatches and turns errors into messages.
#include "Cli.h"

#include "core/util/BlasThreads.h"
#include "core/util/BuildInfo.h"
#include "core/util/Error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace tkd::cli {

void configureThreads()
{
    int n = int(std::thread::hardware_concurrency());
    if (const char *env = std::getenv("TKD_THREADS"))
        n = std::max(1, std::atoi(env));
    torch::set_num_threads(std::max(1, n));
    tkd::setBlasThreads(1); // LibTorch's pool parallelises around BLAS; see BlasThreads.h
}

} // namespace tkd::cli

static void printUsage()
{
    std::cout << "tkd " << tkd::build::kVersion << " - temporal knowledge distillation for on-device "
              << "audio classification\n\nusage: tkd COMMAND [SUBCOMMAND] [options]   "
              << "(tkd COMMAND --help for details)\n\ncommands:\n";
    auto cmds = tkd::cli::registry();
    std::sort(cmds.begin(), cmds.end(),
              [](const auto &a, const auto &b) { return a.path < b.path; });
    for (const auto &c : cmds)
        std::cout << "  " << c.path << std::string(c.path.size() < 22 ? 22 - c.path.size() : 1, ' ')
                  << c.summary << "\n";
}

int main(int argc, char **argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        printUsage();
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::cout << "tkd " << tkd::build::kVersion << " (" << tkd::build::kSourceRevision << ")\n";
        return 0;
    }
    // Longest command path that matches the leading words ("data synth" before "data").
    const tkd::cli::Command *best = nullptr;
    size_t bestWords = 0;
    for (const auto &c : tkd::cli::registry()) {
        std::vector<std::string> words;
        size_t start = 0;
        while (start <= c.path.size()) {
            size_t sp = c.path.find(' ', start);
            if (sp == std::string::npos)
                sp = c.path.size();
            words.push_back(c.path.substr(start, sp - start));
            start = sp + 1;
        }
        if (words.size() <= args.size() && std::equal(words.begin(), words.end(), args.begin())
            && words.size() > bestWords) {
            best = &c;
            bestWords = words.size();
        }
    }
    if (!best) {
        // A group name alone ("tkd data") lists its subcommands.
        bool group = false;
        for (const auto &c : tkd::cli::registry())
            if (c.path.rfind(args[0] + " ", 0) == 0) {
                if (!group)
                    std::cout << "usage: tkd " << args[0] << " SUBCOMMAND [options]\n\n";
                group = true;
                std::cout << "  " << c.path << std::string(c.path.size() < 22 ? 22 - c.path.size() : 1, ' ')
                          << c.summary << "\n";
            }
        if (group)
            return (args.size() > 1 && args[1] == "--help") ? 0 : 2;
        std::cerr << "tkd: unknown command '" << args[0] << "' (see tkd --help)\n";
        return 2;
    }
    tkd::cli::configureThreads();
    try {
        return best->run(std::vector<std::string>(args.begin() + long(bestWords), args.end()));
    } catch (const tkd::Cancelled &) {
        std::cerr << "tkd " << best->path << ": cancelled\n";
        return 130;
    } catch (const tkd::Error &e) {
        std::cerr << "tkd " << best->path << ": error: " << e.what() << "\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "tkd " << best->path << ": unexpected error: " << e.what() << "\n";
        return 1;
    }
}
