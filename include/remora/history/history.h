// Transaction history recording for the strict-serializability checker
// (docs/history.md, tools/histcheck).
//
// Every node writes one JSON-lines file, DIR/node-<id>.jsonl, with one line
// per finished transaction attempt or lock-free read:
//   {"tx":"<epoch>.<node>.<thread>.<seq>","start":<ns>,"end":<ns>,
//    "outcome":"commit"|"abort"|"unknown","reads":[["0x<addr>",<version>],...],
//    "writes":[["0x<addr>",<version>],...]}
// (on one line, no spaces; a lock-free read adds "kind":"lockfree"), and one
// line per range of objects placed at load time:
//   {"load":{"from":"0x<addr>","count":<objects>,"stride":<bytes>,"version":<v>}}
// Times are CLOCK_MONOTONIC nanoseconds; addresses are the raw 64-bit GAddr
// of the object in lowercase hex. The format is part of the project's test
// contract: keep it stable (docs/history.md).
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

class Store;

// How an attempt ended, as its coordinator knows it. kUnknown: the
// coordinator could not learn the outcome (e.g. a commit message's answer
// was lost); the record lists the writes it would have installed.
enum class TxOutcome : uint8_t { kAbort, kCommit, kUnknown };

// One finished transaction attempt, or one lock-free read-only operation.
struct HistoryRecord {
  TxId tx;
  uint64_t start_ns = 0;  // CLOCK_MONOTONIC before the first operation
  uint64_t end_ns = 0;    // CLOCK_MONOTONIC after the outcome was known
  TxOutcome outcome = TxOutcome::kAbort;
  // A lock-free read (TxnEngine::lockfree_read, HashTable::lookup): always
  // kCommit, no writes; its id comes from the same per-thread counter as
  // transaction attempts, so ids stay unique.
  bool lockfree = false;
  std::vector<std::pair<uint64_t, uint64_t>> reads;   // (raw GAddr, version seen)
  std::vector<std::pair<uint64_t, uint64_t>> writes;  // (raw GAddr, version installed)

  bool committed() const { return outcome == TxOutcome::kCommit; }
  bool operator==(const HistoryRecord&) const = default;
};

// `count` objects `stride` bytes apart from the raw GAddr `from`, placed at
// load time (before any transaction) at `version`.
struct HistoryLoad {
  uint64_t from = 0;
  uint64_t count = 0;   // >= 1
  uint64_t stride = 0;  // >= 1
  uint64_t version = 0;

  bool operator==(const HistoryLoad&) const = default;
};

// Everything read from history files.
struct History {
  std::vector<HistoryRecord> records;
  std::vector<HistoryLoad> loads;
};

// CLOCK_MONOTONIC now, in nanoseconds: the clock of start_ns and end_ns.
uint64_t history_clock_ns();

// Appends `r` (or `l`) as one line, with its trailing '\n', to `out`.
void format_history_line(const HistoryRecord& r, std::string* out);
void format_history_line(const HistoryLoad& l, std::string* out);

// Parses one line (without '\n') into a record or a load, appended to `out`.
// Accepts whitespace between tokens and keys in any order; every key but
// "kind" is required and unknown keys are refused. kInvalidArgument names
// the column and what was expected.
Status parse_history_line(std::string_view line, History* out);
// One transaction line; a load line is refused.
Result<HistoryRecord> parse_history_line(std::string_view line);

// Everything in one history file. Errors name "path:line: ...". Empty
// lines are skipped.
Result<History> read_history_file(const std::string& path);
// The same, appending to `out` (which keeps what was read before an error).
Status append_history_file(const std::string& path, History* out);

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
  void append_load(const HistoryLoad& l);
  // One load record per table in `store`'s catalog (Store::create_table
  // places rows at Store::kLoadVersion; HashTableLoader fills buckets in
  // place). Call once per node after loading, before transactions run.
  void append_tables(const Store& store);
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
  // Formats one line with `format` into this thread's buffer; writes the
  // buffer out if full.
  template <typename F>
  void append_with(F&& format);
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
