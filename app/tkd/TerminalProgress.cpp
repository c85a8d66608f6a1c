#include "TerminalProgress.h"

#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace tkd::cli {

std::string formatDuration(double s)
{
    char buf[32];
    if (s < 0 || s != s)
        return "?";
    const int t = int(s + 0.5);
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%ds", t);
    return buf;
}

TerminalProgress::TerminalProgress()
    : m_tty(isatty(fileno(stderr)) != 0)
{ }

tkd::Progress TerminalProgress::progress()
{
    tkd::Progress p;
    p.onProgress = [this](const std::string &stage, int64_t done, int64_t total) {
        update(stage, done, total);
    };
    return p;
}

void TerminalProgress::update(const std::string &stage, int64_t done, int64_t total)
{
    using clock = std::chrono::steady_clock;
    const auto now = clock::now();
    if (stage != m_stage) {
        finish();
        m_stage = stage;
        m_stageStart = now;
        m_lastDraw = {};
    }
    const bool last = total > 0 && done >= total;
    const double sinceDraw = std::chrono::duration<double>(now - m_lastDraw).count();
    if (!last && sinceDraw < (m_tty ? 0.1 : 5.0))
        return;
    m_lastDraw = now;
    const double elapsed = std::chrono::duration<double>(now - m_stageStart).count();
    const double frac = total > 0 ? double(done) / double(total) : 0.0;
    const double eta = frac > 0 ? elapsed * (1.0 - frac) / frac : -1.0;
    if (m_tty) {
        const int width = 30;
        const int filled = int(frac * width);
        std::fprintf(stderr, "\r%-12s [%s%s] %3d%% %lld/%lld  %s elapsed, ETA %s   ", stage.c_str(),
            std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
            int(frac * 100), (long long)done, (long long)total, formatDuration(elapsed).c_str(),
            last ? "0s" : formatDuration(eta).c_str());
        m_lineOpen = true;
        if (last)
            finish();
    } else {
        std::fprintf(stderr, "%s: %lld/%lld (%d%%), %s elapsed, ETA %s\n", stage.c_str(),
            (long long)done, (long long)total, int(frac * 100), formatDuration(elapsed).c_str(),
            last ? "0s" : formatDuration(eta).c_str());
    }
    std::fflush(stderr);
}

void TerminalProgress::finish()
{
    if (m_lineOpen) {
        std::fputc('\n', stderr);
        m_lineOpen = false;
    }
}

} // namespace tkd::cli

void TerminalObserver::onStage(const tkd::StageReport &r)
{
    if (r.total > 0)
        m_bar.update(r.stage, r.done, r.total);
    else if (!r.message.empty() && r.message != m_lastMessage) {
        m_bar.finish();
        std::fprintf(stderr, "[%s] %s\n", r.stage.c_str(), r.message.c_str());
    }
    m_lastMessage = r.message;
}

void TerminalObserver::onEpoch(const tkd::EpochReport &r)
{
    m_bar.finish();
    auto v = [&](const char *k) {
        auto it = r.validation.find(k);
        return it == r.validation.end() ? std::nan("") : it->second;
    };
    if (!m_verbose && !r.best)
        return;
    // The parts the stage reports (a student's task and kd, a teacher's task alone), never a
    // part it does not have.
    std::string parts;
    for (const auto &[name, value] : r.trainLosses)
        if (name != "total") {
            char part[64];
            std::snprintf(
                part, sizeof part, "%s%s %.4f", parts.empty() ? "" : ", ", name.c_str(), value);
            parts += part;
        }
    const auto total = r.trainLosses.find("total");
    std::fprintf(stderr, "[%s] epoch %lld: loss %.4f%s, val acc %.1f%%%s\n", r.stage.c_str(),
        (long long)r.epoch, total == r.trainLosses.end() ? std::nan("") : total->second,
        parts.empty() ? "" : (" (" + parts + ")").c_str(), 100.0 * v("accuracy"),
        r.best ? " (best)" : "");
}

void TerminalObserver::onMessage(Level level, const std::string &text)
{
    m_bar.finish();
    const char *tag = level == Level::Warning ? "warning: "
        : level == Level::Error               ? "error: "
                                              : "";
    std::fprintf(stderr, "%s%s\n", tag, text.c_str());
}
