#pragma once

#include <string>
#include <vector>

namespace tkd {

// Shipped files (the pretrained teacher, example experiments) by their path below resources/,
// e.g. "teachers/kws12-small.safetensors". Looked for in $TKD_RESOURCE_DIR, then this
// build's source tree, then the installed data folder (/usr/share/tkd-studio). Throws tkd::Error
// naming every folder tried when the file is in none of them.
std::string findResource(const std::string &relative);
std::vector<std::string> resourceSearchPath();

} // namespace tkd
