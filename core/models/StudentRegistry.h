#pragma once

#include "core/models/StudentModel.h"
#include "core/models/StudentSpec.h"

#include <string>
#include <vector>

namespace tkd {

// Every student, by name: the one list (StudentRegistry.cpp) help text, checks, forms and
// colours read. `tkd models` prints it.
class StudentRegistry
{
public:
    static const std::vector<StudentSpec> &specs();
    static std::vector<std::string> names();
    static bool contains(const std::string &name);
    // "lstm-p, tc-resnet8, ..." for help text and messages.
    static std::string namesText();
    // Throws tkd::Error("student", "unknown student 'x' (known: ...)").
    static const StudentSpec &spec(const std::string &name);

    // A freshly initialised student for `numClasses` classes over `featureDim` features per frame
    // (<= 0: the student's default, spec(name).featureCount). Bad values throw tkd::Error naming
    // "student", "classes" or "features".
    static StudentModel create(const std::string &name, int64_t numClasses, int64_t featureDim = 0);
};

} // namespace tkd
