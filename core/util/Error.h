#pragma once

#include <stdexcept>
#include <string>

namespace tkd {

// The one exception type core throws for bad input. `subject` is what the user must look at
// (a file path, a config key such as "noise.snr_db", a device name); `reason` says what is wrong.
// what() reads "subject: reason", ready to print at the edges (CLI, GUI).
class Error : public std::runtime_error
{
public:
    Error(std::string subject, std::string reason);

    const std::string &subject() const { return m_subject; }
    const std::string &reason() const { return m_reason; }

private:
    std::string m_subject;
    std::string m_reason;
};

// Thrown when a long operation sees its cancel flag set; not an error to report.
class Cancelled : public std::runtime_error
{
public:
    Cancelled()
        : std::runtime_error("cancelled")
    { }
};

} // namespace tkd
