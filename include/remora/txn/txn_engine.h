// TxnEngine: the transaction layer's share of one engine thread.
//
//   auto store = Store::create(node);                 // once per node
//   // on each engine thread, after node->start():
//   auto txn = TxnEngine::create(*store, engine, opts);
//   // in a coroutine of that thread's Worker:
//   Status s = txn->transact(ctx, [&](Tx& tx) -> Status { ... });
//
// It is both a coordinator (transact(): execute, then lock -> validate ->
// commit-backup -> commit-primary -> truncate, docs/transactions.md) and a
// participant: it registers the RPC methods 16..31 on the engine's endpoint
// and serves LOCK, VALIDATE, COMMIT_BACKUP, COMMIT_PRIMARY, ABORT, TRUNCATE
// and catalog lookups sent by the same-numbered thread of other nodes.
// Owner thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "remora/common/status.h"
#include "remora/msg/function_ref.h"
#include "remora/runtime/context.h"
#include "remora/txn/store.h"
#include "remora/txn/tx.h"
#include "remora/txn/txid.h"

namespace remora {

class Context;
class Engine;
class HistoryWriter;
struct HistoryRecord;
enum class TxOutcome : uint8_t;
namespace txn_detail {
enum Method : uint16_t;
class MsgWriter;
class OutList;
class Participant;
class Slabs;
struct AttemptScratch;
struct CommitPlan;
struct Outgoing;
struct SendScratch;
}  // namespace txn_detail

// Fault injection for the commit protocol: a test seam (unit tests and the
// deterministic simulator, docs/simulation.md). Null in production. Called on
// the engine thread that serves or sends the message.
class TxnFaults {
 public:
  virtual ~TxnFaults() = default;
  // Participant `self`, before serving `method` (wire.h) of `tx` from
  // `from`: a non-OK status refuses the request with that status.
  virtual Status before_serve(NodeId self, uint16_t method, NodeId from, const TxId& tx) {
    (void)self, (void)method, (void)from, (void)tx;
    return Status::OK();
  }
  // Coordinator `self`, before a one-way record (COMMIT_PRIMARY, ABORT) to
  // `to` is written: kFull acts as a full ring, anything else as that error.
  virtual Status before_post(NodeId self, NodeId to, uint16_t method) {
    (void)self, (void)to, (void)method;
    return Status::OK();
  }
};

struct TxnOptions {
  // transact() retries a conflicting attempt this many times in all, then
  // returns kConflict.
  uint32_t max_attempts = 1000;
  // Randomized exponential backoff between attempts: uniform in
  // [0, min(base * 2^k, max)).
  std::chrono::nanoseconds backoff_base = std::chrono::microseconds(1);
  std::chrono::nanoseconds backoff_max = std::chrono::microseconds(500);
  // Re-reads of a locked object (yielding between) before kConflict.
  uint32_t locked_retries = 2;
  // Re-reads of a torn copy before kConflict.
  uint32_t torn_retries = 16;
  // Deadline of every commit-protocol RPC (a timeout ends the attempt).
  std::chrono::nanoseconds rpc_timeout = std::chrono::seconds(10);
  // More read-only objects than this on one primary are validated with one
  // VALIDATE RPC instead of one-sided reads.
  uint32_t validate_rpc_threshold = 4;
  // Committed transactions a backup is told to truncate in one go; more
  // pending than twice this sends an explicit TRUNCATE.
  uint32_t truncate_batch = 32;
  // Every finished attempt is appended here, if set (must outlive us).
  HistoryWriter* history = nullptr;
  // Every finished attempt is also handed here, if set (an in-memory
  // history, e.g. for the simulator's checks).
  std::function<void(const HistoryRecord&)> history_sink;
  // Fault injection (tests only; must outlive us).
  TxnFaults* faults = nullptr;
  // Monotonic clock in ns for deadlines, waits and history times; empty
  // means CLOCK_MONOTONIC (the simulator gives its virtual clock).
  std::function<uint64_t()> now_ns;
  uint64_t seed = 1;
};

struct TxnStats {
  uint64_t attempts = 0;
  uint64_t commits = 0;
  uint64_t read_only_commits = 0;
  uint64_t aborts[static_cast<int>(AbortCause::kCount)] = {};
  uint64_t gave_up = 0;  // transact() calls that ran out of attempts
  // Validation of read-only objects: VALIDATE RPCs sent (one per primary
  // holding more than validate_rpc_threshold of them), and objects checked
  // with one-sided READs (or in place, on this node) instead.
  uint64_t validate_rpcs = 0;
  uint64_t validated_one_sided = 0;
  // As a participant.
  uint64_t locks_refused = 0;
  uint64_t installs = 0;
  uint64_t backup_records = 0;
  uint64_t backup_applied = 0;
  uint64_t backup_aborted = 0;  // COMMIT_BACKUP records dropped by ABORT
  uint64_t truncations_sent = 0;
  uint64_t oneway_failed = 0;  // one-way records (COMMIT_PRIMARY, ABORT, RELEASE) refused here
  // As a coordinator, after the commit point.
  uint64_t unknown_outcomes = 0;     // COMMIT_PRIMARY not delivered: a primary failed
  uint64_t truncation_failures = 0;  // truncations deferred (sent again later)
  uint64_t full_ring_waits = 0;      // one-way records retried on a full ring
  uint64_t runs_released = 0;        // freed runs handed back to their primary
  // VALIDATE requests answered here (refused ones included), and those
  // refused with kConflict (an object locked or changed since it was read).
  uint64_t validations_served = 0;
  uint64_t validations_refused = 0;
  uint64_t aborts_total() const;
};

class TxnEngine {
 public:
  // On the engine's thread, after Node::start(), before any transaction of
  // any node reaches this engine (create on every node, then a barrier).
  static Result<std::unique_ptr<TxnEngine>> create(Store& store, Engine& engine,
                                                   TxnOptions options = {});
  ~TxnEngine();

  // Runs fn(tx) and commits; retries conflicts (kConflict from a read or
  // from commit) with randomized backoff, up to max_attempts. Returns OK
  // once an attempt committed, fn's own error (nothing written), kConflict
  // when attempts ran out, or the error that ended the attempt.
  template <typename F>
  Status transact(Context& ctx, F&& fn) {
    return run(ctx, FunctionRef<Status(Tx&)>(fn));
  }

  // One consistent one-sided read of a single object (no transaction):
  // linearizable. kNotFound if not allocated, kConflict if it stays locked.
  // Uses the coroutine's scratch (Context::scratch()): `out` must not lie
  // in it. With a history writer, a consistent read (kOk or kNotFound) is
  // recorded as a lock-free read (docs/history.md).
  template <typename T>
  Result<T> lockfree_read(Context& ctx, GAddr a, uint64_t* version = nullptr) {
    static_assert(std::is_trivially_copyable_v<T>);
    T out;
    REMORA_RETURN_IF_ERROR(lockfree_read_bytes(ctx, a, {reinterpret_cast<std::byte*>(&out), sizeof(T)}, version));
    return out;
  }
  Status lockfree_read_bytes(Context& ctx, GAddr a, std::span<std::byte> out, uint64_t* version);
  // The same without a history record, for operations made of several reads
  // that record themselves as one (HashTable::lookup) or are no single
  // linearizable read (HashTable::count). Also sets *version for a free
  // object (kNotFound).
  Status lockfree_read_unrecorded(Context& ctx, GAddr a, std::span<std::byte> out, uint64_t* version);
  // The same without the copy out: reads the object into `buf` (its header
  // and payload: obj::kHeaderSize + payload size bytes; a prefix of the
  // coroutine's scratch saves a bounce copy), checks it there and points
  // *payload at the checked payload inside buf, valid until buf is reused.
  Status lockfree_view_unrecorded(Context& ctx, GAddr a, std::span<std::byte> buf,
                                  std::span<const std::byte>* payload, uint64_t* version);
  // Appends one lock-free read-only operation that ran from `start_ns`
  // (now_ns()) until now and saw `reads` (raw GAddr, version),
  // if a history writer is set; it takes the next transaction id.
  void record_lockfree(uint64_t start_ns, std::span<const std::pair<uint64_t, uint64_t>> reads);
  bool recording_history() const { return options_.history != nullptr; }
  // The engine's clock in ns: TxnOptions::now_ns, or CLOCK_MONOTONIC.
  uint64_t now_ns() const;

  // The table `name` of `node` (a local lookup or a catalog RPC).
  Result<Table> lookup_table(Context& ctx, NodeId node, const std::string& name);

  // Tells every backup to truncate (apply) the transactions this thread
  // committed and has not yet truncated. Call at the end of a run.
  Status flush_truncations(Context& ctx);

  Store& store() { return store_; }
  Engine& engine() { return engine_; }
  NodeId self() const;
  uint32_t thread() const;
  const TxnOptions& options() const { return options_; }
  const TxnStats& stats() const { return stats_; }
  // Backup log entries waiting for truncation on this thread (tests).
  size_t backup_log_size() const;
  // Transactions holding locks here, and with staged payloads here (tests:
  // both are empty once every transaction ended).
  size_t lock_log_size() const;
  size_t staged_size() const;

 private:
  friend class Tx;
  friend struct txn_detail::CommitPlan;
  TxnEngine(Store& store, Engine& engine, TxnOptions options);
  Status register_methods();
  Status run(Context& ctx, FunctionRef<Status(Tx&)> fn);
  Status attempt(Context& ctx, FunctionRef<Status(Tx&)> fn, txn_detail::AttemptScratch& scratch,
                 AbortCause* cause);
  Status commit(Context& ctx, Tx& tx, AbortCause* cause);
  Status commit_read_only(Context& ctx, Tx& tx, AbortCause* cause);
  Status validate(Context& ctx, Tx& tx, bool during_execution = false);
  // Groups the read-only entries of `tx` by primary into scratch.reads.
  void collect_reads(Tx& tx, bool during_execution);
  void release_fresh(Tx& tx);
  void record(const Tx& tx, uint64_t start, TxOutcome outcome);
  // Sends every message (to this node: served in place) and waits for all
  // answers; each message's outcome in its status; returns the first error.
  Status send(Context& ctx, txn_detail::OutList& out, txn_detail::SendScratch& io);
  // Sends one-way records of a decided outcome (COMMIT_PRIMARY, ABORT),
  // waiting out full rings until sent or the peer is declared failed; does
  // not wait for them to be served.
  Status deliver(Context& ctx, txn_detail::OutList& out, txn_detail::SendScratch& io);
  Status deliver_one(Context& ctx, txn_detail::Outgoing& o);
  Status post_once(NodeId to, txn_detail::Method method, std::span<const std::byte> bytes);
  Status abort_everywhere(Context& ctx, Tx& tx, const txn_detail::CommitPlan& plan);
  void after_commit(Context& ctx, Tx& tx);
  // Frees of whole-block runs: once every backup applied the free (an
  // explicit TRUNCATE, acknowledged), the primary may reuse the blocks
  // (RELEASE). Kept and retried at the next flush while that fails.
  struct PendingRelease {
    TxId tx;
    std::vector<NodeId> backups;  // of the freed runs' regions
    NodeId primary = kInvalidNode;
    std::vector<std::pair<uint64_t, uint64_t>> runs;  // (raw address, last word)
  };
  void queue_release(const Tx& tx);
  Status release_runs(Context& ctx);
  Status validate_one_sided(Context& ctx, txn_detail::AttemptScratch& s);
  void piggyback_truncations(NodeId node, txn_detail::MsgWriter& w);
  void requeue_truncations(const txn_detail::OutList& backup);
  Status maybe_truncate(Context& ctx);
  Status flush_truncations(Context& ctx, txn_detail::AttemptScratch& s);
  void backoff(Context& ctx, uint32_t attempt);
  // Reads a consistent copy of the object at `a` into `out` (header +
  // payload, `out.size()` bytes). Used by Tx and lockfree_read.
  Status read_object(Context& ctx, GAddr a, std::span<std::byte> out, AbortCause* cause);
  Status read_raw(Context& ctx, GAddr a, std::span<std::byte> out);
  TxId next_id();

  Store& store_;
  Engine& engine_;
  const TxnOptions options_;
  std::unique_ptr<txn_detail::Slabs> slabs_;
  std::unique_ptr<txn_detail::Participant> participant_;
  uint64_t seq_ = 0;
  uint64_t rng_;
  TxnStats stats_;
  // Committed transactions whose backup records await truncation, by node.
  std::unordered_map<NodeId, std::vector<TxId>> to_truncate_;
  std::vector<PendingRelease> to_release_;
  // Buffers of the transactions (and flushes) not running now, lent to the
  // next ones: no allocation per transaction once warm.
  std::vector<std::unique_ptr<txn_detail::AttemptScratch>> scratch_pool_;
};

}  // namespace remora
