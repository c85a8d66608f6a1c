#pragma once

namespace tkd {

// Where the keyword is inside a clip, seconds from the clip start. Negative (the ClipRef
// convention) means the clip has no keyword or its position is unknown (e.g. silence).
struct KeywordWindow
{
    double onsetSec = -1.0;
    double offsetSec = -1.0;
    bool present() const { return onsetSec >= 0.0 && offsetSec >= 0.0; }
};

} // namespace tkd
