#pragma once

// The tkd command line is CLI11 (libcli11-dev): typed options with ranges, subcommands and
// generated help. Each command lives in its own *Commands.cpp and registers itself with a
// Registrar, so adding a command never means editing main.cpp or this file.

#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace tkd {
class TrainControl;
}

namespace tkd::cli {

// Runs a command once its command line parsed; returns the exit status.
using Run = std::function<int()>;
// Declares a command's options on its CLI11 subcommand, binding them to variables the returned
// Run reads (keep them in a shared_ptr the Run captures).
using Declare = std::function<Run(CLI::App &command)>;

struct Command
{
    std::string path; // "data synth": the words that select it
    std::string summary; // one line for the parent's help
    std::string details; // a paragraph for the command's own help
    Declare declare;
};

std::vector<Command> &registry();
struct Registrar
{
    Registrar(std::string path, std::string summary, std::string details, Declare declare);
};

// Builds the command tree from the registry, parses argv and runs the chosen command; turns
// errors into messages and exit statuses (0 done, 1 error, 2 usage, 130 interrupted).
int run(int argc, char **argv);

// The command line as typed, argv[0] shown as "tkd" (for provenance records).
const std::vector<std::string> &commandLine();

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> splitList(const std::string &text);

// Sets LibTorch's intra-op threads (Debian's build starts with 1) from TKD_THREADS or the CPU
// count.
void configureThreads();

// Ctrl-C / SIGTERM for one command, while it lives: the handler only stores atomics (signal
// safe): it sets interrupted() and asks the TrainControl, if any, to cancel (the trainer then
// checkpoints and stops). The previous handlers come back on destruction.
class InterruptGuard
{
public:
    explicit InterruptGuard(tkd::TrainControl *control = nullptr);
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard &) = delete;
    InterruptGuard &operator=(const InterruptGuard &) = delete;

    static bool interrupted();

private:
    tkd::TrainControl *m_previousControl;
    void (*m_previousInt)(int);
    void (*m_previousTerm)(int);
};

} // namespace tkd::cli
