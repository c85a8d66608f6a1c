#pragma once

#include "core/train/TrainObserver.h"
#include "core/util/Progress.h"

#include <chrono>
#include <string>

namespace tkd::cli {

// Turns core's progress callback into a one-line bar with rate and ETA on a terminal, or into
// plain log lines (at most one every few seconds, plus the last) when stderr is not a terminal.
class TerminalProgress
{
public:
    TerminalProgress();
    // A Progress whose callback draws here; this object must outlive the work.
    tkd::Progress progress();
    void update(const std::string &stage, int64_t done, int64_t total);
    // Ends the current line (if a bar is drawn).
    void finish();

private:
    bool m_tty;
    std::string m_stage;
    std::chrono::steady_clock::time_point m_stageStart, m_lastDraw;
    bool m_lineOpen = false;
};

std::string formatDuration(double seconds);

} // namespace tkd::cli

// Core's reports on a terminal: a progress bar with ETA per stage, one line per epoch (or only the
// improving ones), and warnings/errors on their own lines.
class TerminalObserver : public tkd::TrainObserver
{
public:
    explicit TerminalObserver(bool verbose)
        : m_verbose(verbose)
    { }
    void onStage(const tkd::StageReport &r) override;
    void onEpoch(const tkd::EpochReport &r) override;
    void onMessage(Level level, const std::string &text) override;

private:
    tkd::cli::TerminalProgress m_bar;
    bool m_verbose;
    std::string m_lastMessage;
};

namespace tkd::cli { } // namespace tkd::cli
