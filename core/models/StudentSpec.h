#pragma once

#include "core/features/FeatureConfig.h"

#include <cstdint>
#include <functional>
#include <string>

namespace tkd {

class StudentModel;

// A registry entry (StudentRegistry.cpp): everything the rest of the program knows about a
// student - its name, what it is, its published front end, whether it has attention of its own,
// how it is shown, and how it is built. Help text, form choices, checks, colours and tests read
// it from here; adding a student is its own files plus one entry.
struct StudentSpec
{
    // Builds a freshly initialised network for (numClasses, featureDim), wrapped with its spec.
    using Factory = std::function<StudentModel(
        const StudentSpec &spec, int64_t numClasses, int64_t featureDim)>;

    std::string name; // registry key: "tc-resnet8-1.5"
    std::string family; // "TC-ResNet"
    std::string summary; // one line for tables and tooltips
    FeatureConfig::Kind featureKind = FeatureConfig::Kind::Mfcc;
    int featureCount = 20;
    int64_t publishedParams = 0; // the published count for 12 classes; 0 when none is published
    std::string displayName; // for plots and tables: "TC-ResNet8 x1.5"
    int nativeHeads
        = 0; // heads of its own attention over time (0: none; kd.target native needs > 0)
    int minFeatures = 1; // fewest features per frame the architecture accepts
    uint32_t colour = 0x7f7f7f; // 0xRRGGBB, the same in every plot of the studio
    Factory factory;

    // The front end this student expects by default: the family's MFCC / log-mel settings with
    // this student's coefficient or mel-bin count.
    FeatureConfig defaultFeatures() const
    {
        FeatureConfig f;
        f.kind = featureKind;
        if (featureKind == FeatureConfig::Kind::Mfcc)
            f.mfccCount = featureCount;
        else
            f.melBins = featureCount;
        return f;
    }
    // "20 MFCC", "80 log-mel".
    std::string featureLabel() const
    {
        return std::to_string(featureCount)
            + (featureKind == FeatureConfig::Kind::Mfcc ? " MFCC" : " log-mel");
    }
};

} // namespace tkd
