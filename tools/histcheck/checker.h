// Strict-serializability checker for recorded transaction histories
// (docs/history.md).
//
// Committed transactions, lock-free reads and the unknown-outcome attempts
// that must have committed are the nodes of a graph with wr, ww and rw
// edges derived from each object's version order and real-time edges (T1
// ended before T2 started); the history is strictly serializable iff the
// versions are consistent (every version read was installed or loaded,
// none twice) and the graph has no cycle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "histcheck/graph.h"
#include "remora/common/status.h"
#include "remora/history/history.h"

namespace remora::histcheck {

// What a graph node stands for (printed after its id when not kTx).
enum class NodeKind : uint8_t { kTx, kLockfree, kUnknown };

// One edge of a reported cycle, between committed transactions.
struct CycleStep {
  TxId from;
  TxId to;
  EdgeKind kind;
  NodeKind from_kind = NodeKind::kTx;
  NodeKind to_kind = NodeKind::kTx;
  uint64_t addr = 0;          // wr/ww/rw: the object
  uint64_t from_version = 0;  // wr/ww: version `from` wrote; rw: version `from` read
  uint64_t to_version = 0;    // wr: version `to` read; ww/rw: version `to` wrote
  uint64_t from_end = 0;      // rt: from.end_ns < to.start_ns
  uint64_t to_start = 0;

  // "1.0.0.5 -rw-> 1.1.0.7 (object 0x10: read v3, next wrote v4)"; a
  // lock-free read is "1.0.0.5 [lock-free]", an unknown "1.0.0.5 [unknown]".
  std::string to_string() const;
};

struct CheckResult {
  uint64_t transactions = 0;  // transaction attempts in the input (lock-free reads apart)
  uint64_t committed = 0;     // attempts with outcome "commit"
  uint64_t aborted = 0;
  uint64_t unknown = 0;            // attempts with outcome "unknown"
  uint64_t unknown_committed = 0;  // of those, the ones that must have committed
  uint64_t lockfree = 0;           // lock-free reads
  uint64_t loaded = 0;             // objects the load records place
  uint64_t load_ranges = 0;        // load records
  // Load records present: an object's initial version is its load version
  // (0 if not loaded). Without: the lowest version seen, with a warning.
  bool strict = false;
  std::vector<std::string> warnings;  // do not affect ok()
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

// Checks `h` (all attempts and loads, from every node). kInvalidArgument
// for input that is not a history: a committed (or unknown) attempt ending
// before it started or writing one object twice, a transaction id used
// twice by nodes of the graph, a lock-free read that writes or did not
// commit, overlapping load ranges.
Result<CheckResult> check_history(const History& h);
// Records without load records (hand-made histories).
Result<CheckResult> check_history(const std::vector<HistoryRecord>& records);

// Every record and load of `paths`; a directory stands for its node-*.jsonl
// files. kNotFound if no file is found, kInvalidArgument/kIoError from the
// reader.
Result<History> load_history(const std::vector<std::string>& paths);

}  // namespace remora::histcheck
