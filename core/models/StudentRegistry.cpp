#include "core/models/StudentRegistry.h"

#include "core/models/AttRnn.h"
#include "core/models/Crnn.h"
#include "core/models/LstmP.h"
#include "core/models/MhAttRnn.h"
#include "core/models/TcResNet.h"
#include "core/util/Error.h"

namespace tkd {

namespace {

using Kind = FeatureConfig::Kind;

std::vector<StudentSpec> makeSpecs()
{
    return {
        { "lstm-p", "LSTM-P", "LSTM 500 with peepholes, projection 200", Kind::Mfcc, 20, 546000 },
        { "tc-resnet8", "TC-ResNet", "TC-ResNet8, temporal 1-D convolutions", Kind::Mfcc, 40,
            66000 },
        { "tc-resnet8-1.5", "TC-ResNet", "TC-ResNet8, width x1.5", Kind::Mfcc, 40, 145000 },
        { "tc-resnet14", "TC-ResNet", "TC-ResNet14, temporal 1-D convolutions", Kind::Mfcc, 40,
            137000 },
        { "tc-resnet14-1.5", "TC-ResNet", "TC-ResNet14, width x1.5", Kind::Mfcc, 40, 305000 },
        { "crnn", "CRNN", "2 valid convs + GRU 256 + dense", Kind::Mfcc, 20, 468000 },
        { "att-rnn", "Att-RNN", "convs + 2 x BiLSTM 64 + middle-frame attention", Kind::LogMel, 80,
            200000 },
        // The streaming-KWS variant: same network with BiGRU 128, on that family's 20 MFCC.
        { "att-rnn-gru", "Att-RNN", "convs + 2 x BiGRU 128 + middle-frame attention", Kind::Mfcc,
            20, 0 },
        { "mhatt-rnn", "MHAtt-RNN", "convs + 2 x BiGRU 128 + 4-head middle-frame attention",
            Kind::Mfcc, 20, 743000 },
    };
}

std::string knownNames()
{
    std::string s;
    for (const auto &n : StudentRegistry::names())
        s += (s.empty() ? "" : ", ") + n;
    return s;
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
    throw Error("student", "unknown student '" + name + "' (known: " + knownNames() + ")");
}

StudentModel StudentRegistry::create(
    const std::string &name, int64_t numClasses, int64_t featureDim)
{
    const StudentSpec &s = spec(name);
    if (numClasses < 1)
        throw Error(
            "classes", "a student needs at least 1 class, got " + std::to_string(numClasses));
    const int64_t f = featureDim > 0 ? featureDim : s.featureCount;
    if (name == "crnn" && f < 5)
        throw Error("features",
            "CRNN's two valid convolutions need at least 5 features per frame, got "
                + std::to_string(f));

    if (name == "lstm-p")
        return StudentModel::wrap(s, LstmP(LstmPOptions(numClasses, f)));
    if (name.rfind("tc-resnet", 0) == 0) {
        TcResNetOptions o(numClasses, f);
        o.depth(name.rfind("tc-resnet14", 0) == 0 ? 14 : 8);
        o.width_multiplier(
            name.size() > 4 && name.compare(name.size() - 4, 4, "-1.5") == 0 ? 1.5 : 1.0);
        return StudentModel::wrap(s, TcResNet(o));
    }
    if (name == "crnn")
        return StudentModel::wrap(s, Crnn(CrnnOptions(numClasses, f)));
    if (name == "att-rnn")
        return StudentModel::wrap(s, AttRnn(AttRnnOptions(numClasses, f)));
    if (name == "att-rnn-gru")
        return StudentModel::wrap(
            s, AttRnn(AttRnnOptions(numClasses, f).cell(AttRnnOptions::Cell::Gru).rnn_units(128)));
    if (name == "mhatt-rnn")
        return StudentModel::wrap(s, MhAttRnn(MhAttRnnOptions(numClasses, f)));
    throw Error("student", "no constructor for registered student '" + name + "'");
}

} // namespace tkd
