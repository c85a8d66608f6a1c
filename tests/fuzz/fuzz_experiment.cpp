// Experiment YAML: ExperimentConfig::parse (the editors' lenient form) and fromYaml (strict);
// a config fromYaml accepts must survive toYaml -> fromYaml unchanged, as the header promises.
#include "core/experiment/ExperimentConfig.h"

#include "tests/fuzz/FuzzCommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string text = tkd::fuzz::text(data, size);
    try {
        std::vector<tkd::ConfigIssue> issues;
        const tkd::ExperimentConfig c = tkd::ExperimentConfig::parse(text, "fuzz.yaml", issues);
        for (const auto &i : issues)
            (void)i.toString();
        (void)c.check();
    } catch (const tkd::Error &) { }
    tkd::ExperimentConfig strict;
    try {
        strict = tkd::ExperimentConfig::fromYaml(text, "fuzz.yaml");
    } catch (const tkd::Error &) {
        return 0;
    }
    const std::string yaml = strict.toYaml();
    try {
        if (tkd::ExperimentConfig::fromYaml(yaml, "toYaml") != strict)
            tkd::fuzz::fail("fromYaml(toYaml(c)) != c", yaml);
    } catch (const tkd::Error &e) {
        tkd::fuzz::fail("fromYaml rejects its own toYaml:", std::string(e.what()) + "\n" + yaml);
    }
    return 0;
}
