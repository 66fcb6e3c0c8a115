// Human and JSON output of the checker.
#include <fmt/format.h>

#include "histcheck/checker.h"

namespace remora::histcheck {

std::string CycleStep::to_string() const {
  std::string head = fmt::format("{} -{}-> {}", from.to_string(), edge_kind_name(kind), to.to_string());
  switch (kind) {
    case EdgeKind::kWr:
      return fmt::format("{} (object 0x{:x}: wrote v{}, read by the next)", head, addr, from_version);
    case EdgeKind::kWw:
      return fmt::format("{} (object 0x{:x}: wrote v{}, next version v{})", head, addr, from_version, to_version);
    case EdgeKind::kRw:
      return fmt::format("{} (object 0x{:x}: read v{}, next wrote v{})", head, addr, from_version, to_version);
    case EdgeKind::kRealTime:
      return fmt::format("{} (ended at {} ns, before the next started at {} ns)", head, from_end, to_start);
  }
  return head;
}

std::string CheckResult::summary() const {
  std::string out = fmt::format(
      "histcheck: {} attempts, {} committed, {} aborted; {} edges (wr {}, ww {}, rw {}, real-time {})\n",
      transactions, committed, aborted, edges(), edges_wr, edges_ww, edges_rw, edges_rt);
  if (ok()) return out + "histcheck: OK, strictly serializable\n";
  out += fmt::format("histcheck: VIOLATION ({} found)\n", violation_count);
  for (const std::string& v : violations) out += "  " + v + "\n";
  if (violation_count > violations.size()) {
    out += fmt::format("  ... and {} more\n", violation_count - violations.size());
  }
  return out;
}

std::string CheckResult::json_line() const {
  return fmt::format(
      "{{\"transactions\":{},\"committed\":{},\"edges\":{},\"ok\":{},\"aborted\":{},\"violations\":{},"
      "\"cycle_length\":{}}}",
      transactions, committed, edges(), ok() ? "true" : "false", aborted, violation_count, cycle.size());
}

}  // namespace remora::histcheck
