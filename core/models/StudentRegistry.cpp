#include "core/models/StudentRegistry.h"

#include "core/models/AttRnn.h"
#include "core/models/Crnn.h"
#include "core/models/LstmP.h"
#include "core/models/TcResNet.h"
#include "core/util/Error.h"

namespace tkd {

namespace {

using Kind = FeatureConfig::Kind;

// One entry per student. Colours: matplotlib's tab10, as in the paper's attention figure.
StudentSpec entry(std::string name, std::string family, std::string displayName,
    std::string summary, Kind kind, int features, int64_t published, int nativeHeads,
    uint32_t colour, StudentSpec::Factory factory)
{
    StudentSpec s;
    s.name = std::move(name);
    s.family = std::move(family);
    s.displayName = std::move(displayName);
    s.summary = std::move(summary);
    s.featureKind = kind;
    s.featureCount = features;
    s.publishedParams = published;
    s.nativeHeads = nativeHeads;
    s.colour = colour;
    s.factory = std::move(factory);
    return s;
}

StudentSpec withMinFeatures(int minFeatures, StudentSpec s)
{
    s.minFeatures = minFeatures;
    return s;
}

template <class Module, class Options>
StudentSpec::Factory make(std::function<Options(int64_t classes, int64_t features)> options)
{
    return [options](const StudentSpec &spec, int64_t classes, int64_t features) {
        return StudentModel::wrap(spec, Module(options(classes, features)));
    };
}

StudentSpec::Factory tcResNet(int depth, double width)
{
    return make<TcResNet, TcResNetOptions>([depth, width](int64_t classes, int64_t features) {
        return TcResNetOptions(classes, features).depth(depth).width_multiplier(width);
    });
}

std::vector<StudentSpec> makeSpecs()
{
    return {
        entry("lstm-p", "LSTM-P", "LSTM-P", "LSTM 500 with peepholes, projection 200", Kind::Mfcc,
            20, 546000, 0, 0xd62728,
            make<LstmP, LstmPOptions>([](int64_t c, int64_t f) { return LstmPOptions(c, f); })),
        entry("tc-resnet8", "TC-ResNet", "TC-ResNet8", "TC-ResNet8, temporal 1-D convolutions",
            Kind::Mfcc, 40, 66000, 0, 0x9467bd, tcResNet(8, 1.0)),
        entry("tc-resnet8-1.5", "TC-ResNet", "TC-ResNet8 x1.5", "TC-ResNet8, width x1.5",
            Kind::Mfcc, 40, 145000, 0, 0x9467bd, tcResNet(8, 1.5)),
        entry("tc-resnet14", "TC-ResNet", "TC-ResNet14", "TC-ResNet14, temporal 1-D convolutions",
            Kind::Mfcc, 40, 137000, 0, 0x8c564b, tcResNet(14, 1.0)),
        entry("tc-resnet14-1.5", "TC-ResNet", "TC-ResNet14 x1.5", "TC-ResNet14, width x1.5",
            Kind::Mfcc, 40, 305000, 0, 0x8c564b, tcResNet(14, 1.5)),
        withMinFeatures(5, // its two valid convolutions
            entry("crnn", "CRNN", "CRNN", "2 valid convs + GRU 256 + dense", Kind::Mfcc, 20, 468000,
                0, 0xbcbd22,
                make<Crnn, CrnnOptions>([](int64_t c, int64_t f) { return CrnnOptions(c, f); }))),
        entry("att-rnn", "Att-RNN", "Att-RNN", "convs + 2 x BiLSTM 64 + middle-frame attention",
            Kind::LogMel, 80, 200000, 1, 0xff7f0e,
            make<AttRnn, AttRnnOptions>([](int64_t c, int64_t f) { return AttRnnOptions(c, f); })),
        // The streaming-KWS variant: same network with BiGRU 128, on that family's 20 MFCC.
        entry("att-rnn-gru", "Att-RNN", "Att-RNN (GRU)",
            "convs + 2 x BiGRU 128 + middle-frame attention", Kind::Mfcc, 20, 0, 1, 0x17becf,
            make<AttRnn, AttRnnOptions>([](int64_t c, int64_t f) {
                return AttRnnOptions(c, f).cell(AttRnnOptions::Cell::Gru).rnn_units(128);
            })),
        entry("mhatt-rnn", "MHAtt-RNN", "MHAtt-RNN",
            "convs + 2 x BiGRU 128 + 4-head middle-frame attention", Kind::Mfcc, 20, 743000, 4,
            0x2ca02c, make<AttRnn, AttRnnOptions>([](int64_t c, int64_t f) {
                return AttRnnOptions(c, f)
                    .cell(AttRnnOptions::Cell::Gru)
                    .rnn_units(128)
                    .heads(4)
                    .dropout(0.2);
            })),
    };
}

} // namespace

const std::vector<StudentSpec> &StudentRegistry::specs()
{
    static const std::vector<StudentSpec> all = makeSpecs();
    return all;
}

std::vector<std::string> StudentRegistry::names()
{
    std::vector<std::string> out;
    for (const auto &s : specs())
        out.push_back(s.name);
    return out;
}

std::string StudentRegistry::namesText()
{
    std::string s;
    for (const auto &n : names())
        s += (s.empty() ? "" : ", ") + n;
    return s;
}

bool StudentRegistry::contains(const std::string &name)
{
    for (const auto &s : specs())
        if (s.name == name)
            return true;
    return false;
}

const StudentSpec &StudentRegistry::spec(const std::string &name)
{
    for (const auto &s : specs())
        if (s.name == name)
            return s;
    throw Error("student", "unknown student '" + name + "' (known: " + namesText() + ")");
}

StudentModel StudentRegistry::create(
    const std::string &name, int64_t numClasses, int64_t featureDim)
{
    const StudentSpec &s = spec(name);
    if (numClasses < 1)
        throw Error(
            "classes", "a student needs at least 1 class, got " + std::to_string(numClasses));
    const int64_t f = featureDim > 0 ? featureDim : s.featureCount;
    if (f < s.minFeatures)
        throw Error("features",
            s.displayName + " needs at least " + std::to_string(s.minFeatures)
                + " features per frame, got " + std::to_string(f));
    return s.factory(s, numClasses, f);
}

} // namespace tkd
