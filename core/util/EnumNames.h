#pragma once

#include "core/util/Error.h"

#include <string>
#include <vector>

namespace tkd {

// One name table per enum (DESIGN.md rule 11): the enum's values with the names config files,
// checkpoints and command lines use. The functions below answer every question from the table,
// so an enum's .cpp is its table plus one line per function.
template <class E> struct EnumName
{
    E value;
    const char *name;
};

template <class E, size_t N> const char *enumName(const EnumName<E> (&table)[N], E value)
{
    for (const auto &e : table)
        if (e.value == value)
            return e.name;
    return "?";
}

template <class E, size_t N> std::vector<std::string> enumNames(const EnumName<E> (&table)[N])
{
    std::vector<std::string> out;
    for (const auto &e : table)
        out.push_back(e.name);
    return out;
}

// Throws tkd::Error(key, "'x' is not one of: a, b, c").
template <class E, size_t N>
E enumFromName(const EnumName<E> (&table)[N], const std::string &name, const std::string &key)
{
    std::string list;
    for (const auto &e : table) {
        if (name == e.name)
            return e.value;
        list += (list.empty() ? "" : ", ") + std::string(e.name);
    }
    throw Error(key, "'" + name + "' is not one of: " + list);
}

} // namespace tkd
