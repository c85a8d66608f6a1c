#pragma once

#include <string>
#include <vector>

namespace tkd {

// The optimiser a training stage uses (train.optimizer): Adam, or SGD with momentum.
enum class OptimiserKind { Adam, Sgd };

const char *optimiserName(OptimiserKind kind); // "adam", "sgd"
// Throws tkd::Error("train.optimizer", ...).
OptimiserKind optimiserFromName(const std::string &name);
std::vector<std::string> optimiserNames();

} // namespace tkd
