// `tkd models`: the student zoo at a glance: input features, size, compute and the time
// resolution each hands to temporal KD.
#include "Cli.h"

#include "core/features/FeatureConfig.h"
#include "core/models/StudentRegistry.h"
#include "core/util/Error.h"
#include "core/util/Format.h"

#include <cstdio>
#include <iostream>
#include <sstream>

namespace {

std::string pad(const std::string &s, size_t width)
{
    return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

struct ModelsOptions
{
    int classes = 12;
    int features = 0;
    std::string student;
    bool csv = false;
};

int runModels(const ModelsOptions &o)
{
    const int classes = o.classes;
    const int features = o.features;

    std::vector<std::string> names = tkd::StudentRegistry::names();
    if (!o.student.empty()) {
        tkd::StudentRegistry::spec(o.student); // throws, listing the known names
        names = { o.student };
    }
    const bool csv = o.csv;
    if (csv)
        std::cout << "name,family,input,parameters,published_parameters,macs_1s,context_dim,"
                     "context_frames_1s,context_frames_8s,attention_heads\n";
    else
        std::cout << pad("student", 17) << pad("input", 13) << pad("params", 9)
                  << pad("(published)", 12) << pad("MACs/1s", 9) << pad("D", 5) << pad("T' 1s", 7)
                  << pad("T' 8s", 7) << "heads\n";

    for (const auto &name : names) {
        const auto model = tkd::StudentRegistry::create(name, classes, features);
        const auto &spec = model.spec();
        tkd::FeatureConfig fc = spec.defaultFeatures();
        const int64_t frames1 = fc.numFrames(int64_t(fc.sampleRate) * 1);
        const int64_t frames8 = fc.numFrames(int64_t(fc.sampleRate) * 8);
        const std::string input = features > 0 ? std::to_string(features)
                + (spec.featureKind == tkd::FeatureConfig::Kind::Mfcc ? " MFCC" : " log-mel")
                                               : spec.featureLabel();
        const int64_t params = model.parameterCount();
        if (csv) {
            std::cout << name << ',' << spec.family << ',' << input << ',' << params << ','
                      << spec.publishedParams << ',' << model.macs(frames1) << ','
                      << model.contextDim() << ',' << model.contextLength(frames1) << ','
                      << model.contextLength(frames8) << ',' << model.nativeHeads() << '\n';
        } else {
            const std::string published = spec.publishedParams > 0 && classes == 12 && features == 0
                ? "(" + tkd::humanCount(spec.publishedParams) + ")"
                : "";
            std::cout << pad(name, 17) << pad(input, 13) << pad(tkd::humanCount(params), 9)
                      << pad(published, 12) << pad(tkd::humanCount(model.macs(frames1)), 9)
                      << pad(std::to_string(model.contextDim()), 5)
                      << pad(std::to_string(model.contextLength(frames1)), 7)
                      << pad(std::to_string(model.contextLength(frames8)), 7)
                      << (model.nativeHeads() > 0 ? std::to_string(model.nativeHeads()) : "-")
                      << '\n';
        }
        if (!o.student.empty() && !csv) {
            std::cout << "\n" << spec.family << ": " << spec.summary << "\nparameter tensors:\n";
            for (const auto &p : model.namedParameters()) {
                std::ostringstream shape;
                shape << p.value().sizes();
                std::cout << "  " << pad(p.key(), 36) << pad(shape.str(), 16) << p.value().numel()
                          << '\n';
            }
        }
    }
    if (!csv)
        std::cout
            << "\nT' for 1 s / 8 s = " << tkd::FeatureConfig().numFrames(16000) << " / "
            << tkd::FeatureConfig().numFrames(8 * 16000)
            << " input frames; MACs count convolutions, linears, recurrent steps and attention "
               "products.\n";
    return 0;
}

const tkd::cli::Registrar reg("models",
    "list the student models: features, size, MACs, context length",
    "Lists the student models: input features, parameters, multiply-accumulates for 1 s of input, "
    "context "
    "length T' (what temporal KD distils into) for 1 s and 8 s, and native attention heads.",
    [](CLI::App &app) {
        auto o = std::make_shared<ModelsOptions>();
        app.add_option("--classes", o->classes, "number of classes")
            ->capture_default_str()
            ->check(CLI::Range(2, 100000));
        app.add_option("--features", o->features, "features per frame (0: each student's own)")
            ->capture_default_str()
            ->check(CLI::Range(0, 4096));
        app.add_option("--student", o->student,
            "show one student and its parameter tensors: " + tkd::StudentRegistry::namesText());
        app.add_flag("--csv", o->csv, "comma-separated output");
        return [o] { return runModels(*o); };
    });

} // namespace
