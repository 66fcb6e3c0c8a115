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
// The same, appending to `out` (which keeps what was read before an error).
Status append_history_file(const std::string& path, std::vector<HistoryRecord>* out);

// The file one node writes into `dir`.
std::string history_file_path(const std::string& dir, NodeId node);

// One per node process. append() is thread-safe and cheap: each thread
// formats into its own buffer (behind a mutex only flush() ever contends
// for), and a thread whose buffer reaches kBufferBytes writes it out itself,
// under a file mutex, while the other threads go on appending. Lines of
// different threads reach the file in any order. A thread's buffer lives as
// long as the writer, so threads may come and go. REQUIRES: no append()
// runs concurrently with the destructor.
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
  // Writes everything appended (by any thread) before the call; returns the
  // first write error seen.
  Status flush();

  const std::string& path() const { return path_; }

 private:
  struct ThreadBuffer {
    std::mutex mu;
    std::string data;   // guarded by mu
    std::string spare;  // empty, with capacity: the next `data`; guarded by mu
  };

  HistoryWriter(std::string path, int fd);
  ThreadBuffer* buffer_of_this_thread();
  void write_out(const std::string& data);  // REQUIRES: io_mu_ held

  const uint64_t id_;  // unique per writer in the process: keys the threads' caches
  const std::string path_;
  const int fd_;
  std::mutex registry_mu_;
  std::vector<std::unique_ptr<ThreadBuffer>> buffers_;  // guarded by registry_mu_; never shrinks
  std::mutex io_mu_;
  Status error_;  // first write error; guarded by io_mu_
};

}  // namespace remora
