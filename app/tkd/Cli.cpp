#include "Cli.h"

#include "core/train/TrainControl.h"
#include "core/train/TrainLoop.h"
#include "core/util/Allocator.h"
#include "core/util/BlasThreads.h"
#include "core/util/BuildInfo.h"
#include "core/util/Error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

namespace tkd::cli {

namespace {

std::vector<std::string> g_commandLine;
std::atomic<bool> g_interrupted { false };
std::atomic<tkd::TrainControl *> g_control { nullptr };

extern "C" void onInterrupt(int)
{
    // Atomics only: safe in a signal handler.
    g_interrupted.store(true);
    if (tkd::TrainControl *c = g_control.load())
        c->requestCancel();
}

std::vector<std::string> words(const std::string &path)
{
    std::vector<std::string> out;
    std::istringstream in(path);
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

// The deepest subcommand the command line selected ("devices listen" rather than "devices").
CLI::App *selected(CLI::App &app)
{
    CLI::App *at = &app;
    for (;;) {
        const auto subs = at->get_subcommands();
        if (subs.empty())
            return at;
        at = subs.front();
    }
}

std::string pathOf(const CLI::App *app)
{
    std::string path;
    for (const CLI::App *a = app; a && a->get_parent(); a = a->get_parent())
        path = a->get_name() + (path.empty() ? "" : " " + path);
    return path;
}

} // namespace

std::vector<Command> &registry()
{
    static std::vector<Command> commands;
    return commands;
}

Registrar::Registrar(std::string path, std::string summary, std::string details, Declare declare)
{
    registry().push_back(
        { std::move(path), std::move(summary), std::move(details), std::move(declare) });
}

const std::vector<std::string> &commandLine()
{
    return g_commandLine;
}

std::vector<std::string> splitList(const std::string &text)
{
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty())
            out.push_back(item);
    return out;
}

// TKD_THREADS, strictly: a whole number in [1, 1024]; anything else is an error naming it
// (atoi turned "abc" into 1 and 100000 into a pool of 100000 threads).
void configureThreads()
{
    int n = std::max(1, int(std::thread::hardware_concurrency()));
    if (const char *env = std::getenv("TKD_THREADS"); env && *env) {
        char *end = nullptr;
        errno = 0;
        const long v = std::strtol(env, &end, 10);
        if (end == env || *end != '\0' || errno == ERANGE || v < 1 || v > 1024)
            throw tkd::Error("TKD_THREADS",
                "'" + std::string(env) + "' is not a thread count (a whole number, 1 to 1024)");
        n = int(v);
    }
    tkd::tuneAllocatorForTensors(); // before the pools allocate; see Allocator.h
    torch::set_num_threads(n);
    tkd::setBlasThreads(1); // LibTorch's pool parallelises around BLAS; see BlasThreads.h
    tkd::TrainLoop::flushDenormals(); // denormals make sgemm ~150x slower: TrainLoop.h
}

// Every floating-point option refuses nan and inf: CLI11 reads them as numbers, and a range
// check compares false against NaN, so "--seconds nan" used to slip through to a default.
void rejectNonFiniteNumbers(CLI::App &app)
{
    for (CLI::Option *opt : app.get_options())
        if (opt->get_type_name().rfind("FLOAT", 0) == 0) // "FLOAT" or "FLOAT:FLOAT in [a - b]"
            opt->check(CLI::Validator(
                [](std::string &value) -> std::string {
                    char *end = nullptr;
                    const double v = std::strtod(value.c_str(), &end);
                    if (end != value.c_str() && !std::isfinite(v))
                        return "'" + value + "' is not a finite number";
                    return {};
                },
                "", "finite"));
}

InterruptGuard::InterruptGuard(tkd::TrainControl *control)
    : m_previousControl(g_control.exchange(control))
{
    m_previousInt = std::signal(SIGINT, onInterrupt);
    m_previousTerm = std::signal(SIGTERM, onInterrupt);
}

InterruptGuard::~InterruptGuard()
{
    std::signal(SIGINT, m_previousInt == SIG_ERR ? SIG_DFL : m_previousInt);
    std::signal(SIGTERM, m_previousTerm == SIG_ERR ? SIG_DFL : m_previousTerm);
    g_control.store(m_previousControl);
}

bool InterruptGuard::interrupted()
{
    return g_interrupted.load();
}

int run(int argc, char **argv)
{
    CLI::App app { std::string("tkd ") + tkd::build::kVersion
            + " - temporal knowledge distillation for on-device audio classification",
        "tkd" };
    app.set_version_flag("--version",
        std::string("tkd ") + tkd::build::kVersion + " (" + tkd::build::kSourceRevision + ")");
    app.footer("tkd COMMAND --help describes a command.");
    // As the hand-written parser did: an option given twice takes its last value (subcommands
    // inherit this default when they are added).
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

    // The tree from the registry: "devices" and "devices listen" are a command with a
    // subcommand; "data synth" alone makes "data" a group.
    std::vector<Command> commands = registry();
    std::sort(commands.begin(), commands.end(),
        [](const auto &a, const auto &b) { return a.path < b.path; });
    std::map<std::string, CLI::App *> nodes { { "", &app } };
    std::map<const CLI::App *, Run> runs;
    std::map<std::string, std::vector<std::string>> children;
    for (const Command &c : commands) {
        const std::vector<std::string> w = words(c.path);
        std::string path;
        for (const std::string &word : w) {
            const std::string parent = path;
            path += (path.empty() ? "" : " ") + word;
            if (!nodes.count(path)) {
                nodes[path] = nodes[parent]->add_subcommand(word);
                children[parent].push_back(word);
            }
        }
        CLI::App *sub = nodes[path];
        sub->description(c.summary);
        if (!c.details.empty())
            sub->footer(c.details);
        runs[sub] = c.declare(*sub);
        rejectNonFiniteNumbers(*sub);
    }
    for (const auto &[path, kids] : children) {
        CLI::App *node = nodes[path];
        if (node == &app || runs.count(node))
            continue;
        std::string list;
        for (const std::string &k : kids)
            list += (list.empty() ? "" : ", ") + k;
        node->description(path + " commands: " + list);
    }

    g_commandLine = { "tkd" };
    for (int i = 1; i < argc; ++i)
        g_commandLine.push_back(argv[i]);
    if (argc < 2) {
        std::cout << app.help();
        return 2;
    }
    if (std::string(argv[1]) == "help") { // "tkd help", as before
        std::cout << app.help();
        return 0;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp &e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        const CLI::App *at = selected(app);
        if (at == &app) {
            std::cerr << "tkd: error: " << e.what() << " (see tkd --help)\n";
            return 2;
        }
        std::cerr << "tkd " << pathOf(at) << ": error: " << e.what() << " (see tkd " << pathOf(at)
                  << " --help)\n";
        return 1;
    }

    CLI::App *chosen = selected(app);
    const auto found = runs.find(chosen);
    if (found == runs.end()) { // no command, or a group alone ("tkd data")
        std::cout << chosen->help();
        return 2;
    }
    const std::string path = pathOf(chosen);
    try {
        configureThreads();
        return found->second();
    } catch (const tkd::Cancelled &) {
        std::cerr << "tkd " << path << ": cancelled\n";
        return 130;
    } catch (const tkd::Error &e) {
        std::cerr << "tkd " << path << ": error: " << e.what() << "\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "tkd " << path << ": unexpected error: " << e.what() << "\n";
        return 1;
    }
}

} // namespace tkd::cli
