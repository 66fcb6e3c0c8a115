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
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
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
namespace txn_detail {
class MsgWriter;
class Participant;
class Slabs;
struct CommitPlan;
struct Outgoing;
}  // namespace txn_detail

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
  uint64_t truncations_sent = 0;
  uint64_t oneway_failed = 0;  // one-way records (COMMIT_PRIMARY, ABORT) refused here
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
  // in it.
  template <typename T>
  Result<T> lockfree_read(Context& ctx, GAddr a, uint64_t* version = nullptr) {
    static_assert(std::is_trivially_copyable_v<T>);
    T out;
    REMORA_RETURN_IF_ERROR(lockfree_read_bytes(ctx, a, {reinterpret_cast<std::byte*>(&out), sizeof(T)}, version));
    return out;
  }
  Status lockfree_read_bytes(Context& ctx, GAddr a, std::span<std::byte> out, uint64_t* version);

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
  // Transactions holding LOCK records on this thread (tests).
  size_t lock_log_size() const;

 private:
  friend class Tx;
  friend struct txn_detail::CommitPlan;
  TxnEngine(Store& store, Engine& engine, TxnOptions options);
  Status register_methods();
  Status run(Context& ctx, FunctionRef<Status(Tx&)> fn);
  Status attempt(Context& ctx, FunctionRef<Status(Tx&)> fn, AbortCause* cause);
  Status commit(Context& ctx, Tx& tx, AbortCause* cause);
  Status validate(Context& ctx, Tx& tx, bool during_execution = false);
  void release_fresh(Tx& tx);
  void record(const Tx& tx, uint64_t start, bool committed);
  // Sends every message (to this node: served in place) and waits for all
  // answers; each message's outcome in its status; returns the first error.
  Status send(Context& ctx, std::vector<txn_detail::Outgoing>& out);
  // Sends one-way records (COMMIT_PRIMARY, ABORT); does not wait for them
  // to be served.
  Status post(Context& ctx, std::vector<txn_detail::Outgoing>& out);
  Status abort_locks(Context& ctx, Tx& tx, const std::vector<txn_detail::Outgoing>& lock, bool staged);
  Status validate_one_sided(Context& ctx, std::span<const Tx::Entry* const> entries);
  void piggyback_truncations(NodeId node, txn_detail::MsgWriter& w);
  void requeue_truncations(const std::vector<txn_detail::Outgoing>& backup);
  Status maybe_truncate(Context& ctx);
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
};

}  // namespace remora
