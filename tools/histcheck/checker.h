// Strict-serializability checker for recorded transaction histories
// (docs/history.md).
//
// Committed transactions are the nodes of a graph with wr, ww and rw edges
// derived from each object's version order and real-time edges (T1 ended
// before T2 started); the history is strictly serializable iff the versions
// are consistent and the graph has no cycle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "histcheck/graph.h"
#include "remora/common/status.h"
#include "remora/history/history.h"

namespace remora::histcheck {

// One edge of a reported cycle, between committed transactions.
struct CycleStep {
  TxId from;
  TxId to;
  EdgeKind kind;
  uint64_t addr = 0;          // wr/ww/rw: the object
  uint64_t from_version = 0;  // wr/ww: version `from` wrote; rw: version `from` read
  uint64_t to_version = 0;    // wr: version `to` read; ww/rw: version `to` wrote
  uint64_t from_end = 0;      // rt: from.end_ns < to.start_ns
  uint64_t to_start = 0;

  std::string to_string() const;  // "1.0.0.5 -rw-> 1.1.0.7 (object 0x10, read v3, wrote v4)"
};

struct CheckResult {
  uint64_t transactions = 0;  // attempts in the input
  uint64_t committed = 0;
  uint64_t aborted = 0;
  uint64_t edges_wr = 0, edges_ww = 0, edges_rw = 0;
  uint64_t edges_rt = 0;  // graph edges to, from and between time nodes
  // Versions written twice, reads of versions nobody wrote, a cycle; each
  // one human-readable line (at most kMaxViolations, plus a count line).
  std::vector<std::string> violations;
  uint64_t violation_count = 0;
  std::vector<CycleStep> cycle;  // empty if none was found

  static constexpr size_t kMaxViolations = 20;

  bool ok() const { return violation_count == 0; }
  uint64_t edges() const { return edges_wr + edges_ww + edges_rw + edges_rt; }
  std::string summary() const;    // human-readable, several lines
  std::string json_line() const;  // {"transactions":N,"committed":C,"edges":E,"ok":true,...}
};

// Checks `records` (all attempts, from every node). kInvalidArgument for
// input that is not a history: a committed transaction ending before it
// started, writing one object twice, or a transaction id committed twice.
Result<CheckResult> check_history(const std::vector<HistoryRecord>& records);

// Every record of `paths`; a directory stands for its node-*.jsonl files.
// kNotFound if no file is found, kInvalidArgument/kIoError from the reader.
Result<std::vector<HistoryRecord>> load_history(const std::vector<std::string>& paths);

}  // namespace remora::histcheck
