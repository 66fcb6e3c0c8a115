// Minimal JSON helpers for the JSON-lines output of tools and benchmarks.
#pragma once

#include <string>
#include <string_view>

namespace remora {

// `s` as a quoted JSON string.
std::string json_string(std::string_view s);

}  // namespace remora
