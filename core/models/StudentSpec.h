#pragma once

#include "core/features/FeatureConfig.h"

#include <cstdint>
#include <string>

namespace tkd {

// A registry entry: what a student is called, what it is, and which input features it was
// published with (its default front end).
struct StudentSpec
{
    std::string name; // registry key: "tc-resnet8-1.5"
    std::string family; // "TC-ResNet"
    std::string summary; // one line for tables and tooltips
    FeatureConfig::Kind featureKind = FeatureConfig::Kind::Mfcc;
    int featureCount = 20;
    int64_t publishedParams = 0; // the published count for 12 classes; 0 when none is published

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
