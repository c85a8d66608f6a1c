#include "core/util/Error.h"

namespace tkd {

Error::Error(std::string subject, std::string reason)
    : std::runtime_error(subject.empty() ? reason : subject + ": " + reason)
    , m_subject(std::move(subject))
    , m_reason(std::move(reason))
{ }

} // namespace tkd
