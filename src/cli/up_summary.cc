#include "cli/up_summary.h"

#include <algorithm>

#include <fmt/format.h>

namespace remora::cli {
namespace {

using nlohmann::json;

constexpr const char* kOps[] = {"read", "write", "cas", "faa"};

double num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string fabric_table(const std::vector<json>& results) {
  std::string s = fmt::format("{:<6} {:>6} {:>12} {:>10} {:>10} {:>10}\n", "op", "node", "ops/s",
                              "p50 us", "p99 us", "p999 us");
  for (const char* op : kOps) {
    double total = 0, worst50 = 0, worst99 = 0, worst999 = 0;
    for (const json& r : results) {
      if (!r.contains("ops") || !r["ops"].contains(op)) continue;
      const json& o = r["ops"][op];
      total += num(o, "ops_per_sec");
      worst50 = std::max(worst50, num(o, "p50_us"));
      worst99 = std::max(worst99, num(o, "p99_us"));
      worst999 = std::max(worst999, num(o, "p999_us"));
      s += fmt::format("{:<6} {:>6} {:>12.0f} {:>10.2f} {:>10.2f} {:>10.2f}\n", op,
                       r.value("node", -1), num(o, "ops_per_sec"), num(o, "p50_us"), num(o, "p99_us"),
                       num(o, "p999_us"));
    }
    s += fmt::format("{:<6} {:>6} {:>12.0f} {:>10.2f} {:>10.2f} {:>10.2f}   (sum of rates, worst node)\n",
                     op, "all", total, worst50, worst99, worst999);
  }
  return s;
}

std::string check_table(const std::vector<json>& results) {
  std::string s = fmt::format("{:>4} {:>4} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "node", "ok",
                              "read B", "write B", "atomics", "rpc", "records", "refused", "secs");
  for (const json& r : results) {
    s += fmt::format("{:>4} {:>4} {:>10.0f} {:>10.0f} {:>8.0f} {:>8.0f} {:>8.0f} {:>8.0f} {:>8.2f}\n",
                     r.value("node", -1), r.value("ok", false) ? "yes" : "NO", num(r, "read_bytes"),
                     num(r, "write_bytes"), num(r, "atomics"), num(r, "rpc_calls"), num(r, "ring_records"),
                     num(r, "refusals"), num(r, "elapsed_s"));
  }
  return s;
}

}  // namespace

json parse_result(const std::string& line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return json{{"ok", false}, {"error", "malformed result line: " + line.substr(0, 200)}};
  return j;
}

std::string result_line(const json& r) {
  std::string s = fmt::format("node {}: {}", r.value("node", -1), r.value("ok", false) ? "ok" : "FAILED");
  s += fmt::format(" ({}", r.value("workload", std::string("?")));
  if (r.contains("elapsed_s")) s += fmt::format(", {:.2f} s", num(r, "elapsed_s"));
  s += ")";
  if (r.contains("error")) s += ": " + r.value("error", std::string());
  return s;
}

std::string summary_table(const std::vector<json>& results) {
  std::vector<json> sorted = results;
  std::sort(sorted.begin(), sorted.end(),
            [](const json& a, const json& b) { return a.value("node", -1) < b.value("node", -1); });
  std::string s;
  const std::string workload = sorted.empty() ? "" : sorted[0].value("workload", std::string());
  if (workload == "fabric") s += fabric_table(sorted);
  if (workload == "check") s += check_table(sorted);
  for (const json& r : sorted)
    if (!r.value("ok", false)) s += result_line(r) + "\n";
  return s;
}

}  // namespace remora::cli
