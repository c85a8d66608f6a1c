#pragma once

#include "core/data/Dataset.h"

#include <string>

namespace tkd {

// Reads a noisy set written by NoisyDataset::materialise (`tkd data noisy --out DIR`) back as a
// DatasetIndex, keeping each item's keyword window (speechOnsetSec/OffsetSec), so the studio
// and `tkd data describe` can browse it like any other dataset. Throws tkd::Error naming
// DIR/manifest.json (and the item) when the manifest is missing, malformed or names missing files.
DatasetIndex readNoisyManifest(const std::string &dir);

// True when dir holds a manifest.json written by NoisyDataset::materialise.
bool isNoisyManifestFolder(const std::string &dir);

} // namespace tkd
