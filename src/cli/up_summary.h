// Human summaries of the JSON result lines that `remora node` prints.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace remora::cli {

// Parses one result line; a malformed line becomes {"ok":false,"error":...}.
nlohmann::json parse_result(const std::string& line);

// One-line verdict for a node's result ("node 1: ok (check, 2.31 s)").
std::string result_line(const nlohmann::json& r);

// Table of a whole run: per-operation latency and rate for "fabric",
// per-node counters for "check", errors for failed nodes.
std::string summary_table(const std::vector<nlohmann::json>& results);

}  // namespace remora::cli
