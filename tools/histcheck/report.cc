// Human and JSON output of the checker.
#include <fmt/format.h>

#include "histcheck/checker.h"

namespace remora::histcheck {

namespace {

std::string node_name(const TxId& id, NodeKind k) {
  switch (k) {
    case NodeKind::kTx: break;
    case NodeKind::kLockfree: return id.to_string() + " [lock-free]";
    case NodeKind::kUnknown: return id.to_string() + " [unknown]";
  }
  return id.to_string();
}

}  // namespace

std::string CycleStep::to_string() const {
  std::string head =
      fmt::format("{} -{}-> {}", node_name(from, from_kind), edge_kind_name(kind), node_name(to, to_kind));
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
  std::string out = fmt::format("histcheck: {} attempts, {} committed, {} aborted", transactions, committed, aborted);
  if (unknown) out += fmt::format(", {} unknown ({} must have committed)", unknown, unknown_committed);
  out += fmt::format("; {} lock-free reads\n", lockfree);
  if (strict) out += fmt::format("histcheck: {} objects loaded ({} load records)\n", loaded, load_ranges);
  out += fmt::format("histcheck: {} edges (wr {}, ww {}, rw {}, real-time {})\n", edges(), edges_wr, edges_ww,
                     edges_rw, edges_rt);
  for (const std::string& w : warnings) out += "histcheck: warning: " + w + "\n";
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
      "\"cycle_length\":{},\"unknown\":{},\"unknown_committed\":{},\"lockfree\":{},\"loaded\":{},"
      "\"strict\":{}}}",
      transactions, committed, edges(), ok() ? "true" : "false", aborted, violation_count, cycle.size(), unknown,
      unknown_committed, lockfree, loaded, strict ? "true" : "false");
}

}  // namespace remora::histcheck
