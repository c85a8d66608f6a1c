// Precompiled header for the torch-heavy core parts: parsing torch/torch.h costs ~20 s per
// translation unit, so it is parsed once here. Never include this from widget headers.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <torch/torch.h>
