// The commit protocol, coordinator side (docs/transactions.md):
//   LOCKING -> VALIDATING -> COMMIT_BACKUP -> COMMIT_PRIMARY -> (lazy) TRUNCATE
// with ABORTING from the first three. Messages to this node are served by
// the Participant directly; to others they are RPCs sent in parallel, or
// one-way ring records for the decided outcome (commit_io.cc).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "remora/node/engine.h"
#include "remora/txn/object.h"
#include "remora/txn/txn_engine.h"
#include "txn/attempt_scratch.h"
#include "txn/outgoing.h"
#include "txn/participant.h"
#include "txn/wire.h"

namespace remora {

using txn_detail::EntryHeader;
using txn_detail::Method;
using txn_detail::MsgHeader;
using txn_detail::MsgWriter;
using txn_detail::OutList;
using txn_detail::Outgoing;
using txn_detail::padded;

namespace txn_detail {

// The commit of one transaction: its messages, built from the Tx into the
// lists of its coroutine's AttemptScratch. Records to one node share a
// message while they fit in a ring record; payloads too large for one go
// ahead in kStage pieces.
struct CommitPlan {
  TxnEngine& eng;
  Tx& tx;
  const size_t limit;  // largest RPC request
  const uint32_t epoch;
  OutList &stage_lock, &lock, &stage_backup, &backup, &primary;

  CommitPlan(TxnEngine& e, Tx& t, AttemptScratch& s)
      : eng(e),
        tx(t),
        limit(e.engine().rpc().max_request()),
        epoch(e.store().map().epoch()),
        stage_lock(s.stage_lock),
        lock(s.lock),
        stage_backup(s.stage_backup),
        backup(s.backup),
        primary(s.primary) {
    for (OutList* l : {&stage_lock, &lock, &stage_backup, &backup, &primary}) l->clear();
  }

  MsgWriter& to(OutList& v, NodeId n, Method m, size_t need) {
    const bool first = !has_message_to(v, n);
    bool fresh = false;
    MsgWriter& w = message_to(v, n, m, tx.id(), epoch, need, limit, false, &fresh);
    if (fresh && first && m == Method::kCommitBackup) eng.piggyback_truncations(n, w);
    return w;
  }

  Status add(OutList& stage, OutList& v, NodeId n, Method m,
             const EntryHeader& h, std::span<const std::byte> payload) {
    const size_t room = sizeof(MsgHeader) + sizeof(TxId) * eng.options().truncate_batch;
    const size_t need = sizeof(EntryHeader) + padded(static_cast<uint32_t>(payload.size()));
    if (room + need <= limit) return to(v, n, m, need).add_entry(h, payload);
    const size_t piece = (limit - sizeof(MsgHeader) - sizeof(EntryHeader)) & ~size_t{7};
    for (size_t off = 0; off < payload.size(); off += piece) {
      MsgWriter& w = stage.add(n, Method::kStage, tx.id(), epoch).msg;
      const size_t len = std::min(piece, payload.size() - off);
      REMORA_RETURN_IF_ERROR(w.add_entry(EntryHeader{h.addr, off, payload.size(), 0, 0}, payload.subspan(off, len)));
    }
    return to(v, n, m, sizeof(EntryHeader)).add_staged_entry(h);
  }

  Status build() {
    const RegionMap& map = eng.store().map();
    for (const Tx::Entry& e : tx.entries_) {
      if (!e.written) continue;
      const EntryHeader h{e.addr.raw(), e.seen, e.new_word(), e.size, 0};
      const std::span<const std::byte> payload(e.data, e.size);
      REMORA_RETURN_IF_ERROR(add(stage_lock, lock, e.primary, Method::kLock, h, payload));
      for (NodeId b : map.backups(e.addr.region()))
        REMORA_RETURN_IF_ERROR(add(stage_backup, backup, b, Method::kCommitBackup, h, payload));
    }
    for (const Outgoing& o : lock)
      if (!has_message_to(primary, o.to)) primary.add(o.to, Method::kCommitPrimary, tx.id(), epoch);
    return Status::OK();
  }
};

}  // namespace txn_detail

using txn_detail::CommitPlan;

void TxnEngine::piggyback_truncations(NodeId node, MsgWriter& w) {
  auto it = to_truncate_.find(node);
  if (it == to_truncate_.end()) return;
  std::vector<TxId>& ids = it->second;
  const size_t n = std::min<size_t>(ids.size(), options_.truncate_batch);
  size_t added = 0;
  for (size_t i = ids.size() - n; i < ids.size() && w.add_trunc(ids[i]).ok(); ++i) ++added;
  ids.resize(ids.size() - added);
}

// ABORTING: every node that may hold a lock, a staged piece or a
// COMMIT_BACKUP record of the attempt is told, so that every record ends by
// COMMIT_PRIMARY, TRUNCATE or ABORT. A node all of whose LOCK messages were
// refused holds nothing (a refusal releases what its message had taken and
// the staged pieces) unless a COMMIT_BACKUP or STAGE went there too.
Status TxnEngine::abort_everywhere(Context& ctx, Tx& tx, const CommitPlan& plan) {
  OutList& aborts = tx.scratch_.aborts;
  aborts.clear();
  auto add = [&](NodeId n) {
    if (!has_message_to(aborts, n)) aborts.add(n, Method::kAbort, tx.id(), plan.epoch);
  };
  for (const Outgoing& o : plan.lock)
    if (o.sent && o.status.code() != Code::kConflict) add(o.to);
  for (const OutList* v : {&plan.stage_lock, &plan.stage_backup, &plan.backup})
    for (const Outgoing& o : *v)
      if (o.sent) add(o.to);
  return deliver(ctx, aborts, tx.scratch_.io);
}

Status TxnEngine::commit_read_only(Context& ctx, Tx& tx, AbortCause* cause) {
  // One consistent read needs nothing more; more need validation.
  size_t reads = 0;
  for (const Tx::Entry& e : tx.entries_) reads += e.read ? 1 : 0;
  Status st = reads > 1 ? validate(ctx, tx) : Status::OK();
  if (!st.ok()) {
    *cause = st.code() == Code::kConflict ? AbortCause::kValidation : AbortCause::kError;
    return st;
  }
  ++stats_.commits;
  ++stats_.read_only_commits;
  return st;
}

Status TxnEngine::commit(Context& ctx, Tx& tx, AbortCause* cause) {
  if (tx.write_set_size() == 0) return commit_read_only(ctx, tx, cause);
  CommitPlan plan(*this, tx, tx.scratch_);
  txn_detail::SendScratch& io = tx.scratch_.io;
  Status st = plan.build();
  if (!st.ok()) {
    *cause = AbortCause::kError;
    requeue_truncations(plan.backup);
    return st.with_context("building the commit messages");
  }
  // LOCKING (large payloads staged first)
  st = send(ctx, plan.stage_lock, io);
  if (st.ok()) st = send(ctx, plan.lock, io);
  if (st.ok()) {
    // VALIDATING
    st = validate(ctx, tx);
    if (!st.ok()) *cause = st.code() == Code::kConflict ? AbortCause::kValidation : AbortCause::kError;
  } else {
    *cause = st.code() == Code::kConflict ? AbortCause::kLockRefused : AbortCause::kError;
  }
  // COMMIT_BACKUP
  if (st.ok()) {
    st = send(ctx, plan.stage_backup, io);
    if (st.ok()) st = send(ctx, plan.backup, io);
    if (!st.ok()) *cause = AbortCause::kError;
  }
  if (!st.ok()) {
    Status a = abort_everywhere(ctx, tx, plan);  // ABORTING
    if (!a.ok()) spdlog::warn("node {} thread {}: abort of {}: {}", self(), thread(), tx.id().to_string(), a.to_string());
    requeue_truncations(plan.backup);
    return st;
  }
  // COMMIT_PRIMARY: committed once every backup has the records; a local
  // primary installs at once, remote ones as their record arrives (until
  // then the objects stay locked, so no reader sees the old versions).
  tx.installing_ = true;
  for (const Outgoing& o : plan.backup) {
    std::vector<TxId>& ids = to_truncate_[o.to];
    if (ids.empty() || ids.back() != tx.id()) ids.push_back(tx.id());  // once per node
  }
  st = deliver(ctx, plan.primary, io);
  if (!st.ok()) {
    // A primary was declared failed before its record went out: every
    // backup holds the records, so recovery will commit (FaRM §5.3), but
    // this coordinator cannot tell the application that it did.
    *cause = AbortCause::kError;
    tx.unknown_ = true;
    ++stats_.unknown_outcomes;
    return st.with_context("commit-primary not delivered: outcome unknown until recovery");
  }
  ++stats_.commits;
  // From here on the transaction has committed, whatever happens to the
  // truncations: they are kept and sent again later.
  after_commit(ctx, tx);
  return Status::OK();
}

void TxnEngine::after_commit(Context& ctx, Tx& tx) {
  const size_t releases = to_release_.size();
  queue_release(tx);
  Status st = to_release_.size() > releases ? release_runs(ctx) : maybe_truncate(ctx);
  if (st.ok()) return;
  ++stats_.truncation_failures;
  spdlog::debug("node {} thread {}: truncation deferred: {}", self(), thread(), st.to_string());
}

void TxnEngine::requeue_truncations(const OutList& backup) {
  // The message may not have arrived: truncation is idempotent, send again.
  for (const Outgoing& o : backup) {
    auto m = txn_detail::parse_msg(o.msg.bytes());
    if (!m.ok()) continue;
    for (size_t i = 0; i < m->truncs.size(); ++i) to_truncate_[o.to].push_back(m->truncs[i]);
  }
}

}  // namespace remora
