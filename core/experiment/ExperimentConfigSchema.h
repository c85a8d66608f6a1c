#pragma once

// Private to core/experiment: the schema, one row per key with typed accessors, that drives
// reading (ExperimentConfigYaml.cpp), writing and checking (ExperimentConfigCheck.cpp).

#include "core/experiment/ExperimentConfig.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace tkd::configschema {

using Type = ConfigKeySpec::Type;
using Value = std::variant<std::string, int64_t, double, bool, std::vector<std::string>,
    std::vector<double>, std::vector<int64_t>>;

struct Field
{
    ConfigKeySpec spec;
    std::function<Value(const ExperimentConfig &)> get;
    std::function<void(ExperimentConfig &, const Value &)> set;
};

// Every key in file order.
const std::vector<Field> &fields();
// The comment written above each section ("data", "data.noisy", ...).
const std::map<std::string, std::string> &sectionHelp();
const Field *findField(const std::string &key);
bool isSection(const std::string &path);
std::string typeName(Type t);
// Shortest text that reads back to the same double.
std::string exactText(double v);
// "[lo, hi]" of a ranged key.
std::string rangeText(const ConfigKeySpec &s);
// `text` as YAML comment lines with this indent, wrapped.
std::string commentLines(const std::string &indent, const std::string &text);

} // namespace tkd::configschema
