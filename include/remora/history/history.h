// Transaction history recording for the strict-serializability checker
// (docs/history.md, tools/histcheck).
//
// Every node writes one JSON-lines file, DIR/node-<id>.jsonl, with one line
// per finished transaction attempt:
//   {"tx":"<epoch>.<node>.<thread>.<seq>","start":<ns>,"end":<ns>,
//    "outcome":"commit"|"abort","reads":[["0x<addr>",<version>],...],
//    "writes":[["0x<addr>",<version>],...]}
// (on one line, no spaces). Times are CLOCK_MONOTONIC nanoseconds; addresses
// are the raw 64-bit GAddr of the object in lowercase hex. The format is part
// of the project's test contract: keep it stable.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/types.h"
#include "remora/txn/txid.h"

namespace remora {

// One finished transaction attempt.
struct HistoryRecord {
  TxId tx;
  uint64_t start_ns = 0;  // CLOCK_MONOTONIC before the first operation
  uint64_t end_ns = 0;    // CLOCK_MONOTONIC after the outcome was known
  bool committed = false;
  std::vector<std::pair<uint64_t, uint64_t>> reads;   // (raw GAddr, version seen)
  std::vector<std::pair<uint64_t, uint64_t>> writes;  // (raw GAddr, version installed)

  bool operator==(const HistoryRecord&) const = default;
};

// CLOCK_MONOTONIC now, in nanoseconds: the clock of start_ns and end_ns.
uint64_t history_clock_ns();

// Appends `r` as one line, with its trailing '\n', to `out`.
void format_history_line(const HistoryRecord& r, std::string* out);

// Parses one line (without '\n'). Accepts whitespace between tokens and keys
// in any order; every key is required and unknown keys are refused.
// kInvalidArgument names the column and what was expected.
Result<HistoryRecord> parse_history_line(std::string_view line);

// Every record of one history file. Errors name "path:line: ...". Empty
// lines are skipped.
Result<std::vector<HistoryRecord>> read_history_file(const std::string& path);

// The file one node writes into `dir`.
std::string history_file_path(const std::string& dir, NodeId node);

// One per node process. append() is thread-safe and cheap: the line is
// formatted outside any lock, copied into a shared buffer under a mutex, and
// a full buffer (kBufferBytes) is written out by the appending thread after
// it has released that mutex, so other threads keep appending meanwhile.
// Lines of different threads may reach the file in any order.
class HistoryWriter {
 public:
  static constexpr size_t kBufferBytes = 256 * 1024;

  // Creates `dir` if missing and truncates DIR/node-<node>.jsonl.
  // kIoError names the path if either fails.
  static Result<std::unique_ptr<HistoryWriter>> open(const std::string& dir, NodeId node);
  ~HistoryWriter();  // flushes; a failure is logged
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  // A write error is kept and reported by the next flush().
  void append(const HistoryRecord& r);
  // Writes everything appended so far; returns the first write error seen.
  Status flush();

  const std::string& path() const { return path_; }

 private:
  HistoryWriter(std::string path, int fd);
  void write_out(const std::string& data);  // REQUIRES: io_mu_ held

  const std::string path_;
  const int fd_;
  std::mutex buf_mu_;
  std::string buf_;    // guarded by buf_mu_
  std::string spare_;  // an empty buffer with capacity, for the next swap; guarded by buf_mu_
  std::mutex io_mu_;
  Status error_;  // first write error; guarded by io_mu_
};

}  // namespace remora
