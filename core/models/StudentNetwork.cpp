#include "core/models/StudentNetwork.h"

#include "core/util/Error.h"

#include <sstream>

namespace tkd {

void checkStudentInput(
    const std::string &model, const torch::Tensor &features, int64_t featureDim, int64_t minFrames)
{
    const std::string subject = model + " input";
    if (!features.defined())
        throw Error(subject, "no features given");
    if (features.dim() != 3) {
        std::ostringstream os;
        os << "expected features shaped [batch, frames, " << featureDim << "], got "
           << features.dim() << " dimensions " << features.sizes();
        throw Error(subject, os.str());
    }
    if (features.size(2) != featureDim) {
        std::ostringstream os;
        os << "expected " << featureDim << " features per frame, got " << features.size(2);
        throw Error(subject, os.str());
    }
    if (features.size(0) < 1)
        throw Error(subject, "empty batch");
    if (features.size(1) < minFrames) {
        std::ostringstream os;
        os << "needs at least " << minFrames << " frames, got " << features.size(1);
        throw Error(subject, os.str());
    }
    if (!features.is_floating_point())
        throw Error(subject,
            std::string("expected floating-point features, got ")
                + std::string(c10::toString(features.scalar_type())));
}

} // namespace tkd
