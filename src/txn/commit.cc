// The commit protocol, coordinator side (docs/transactions.md):
//   LOCKING -> VALIDATING -> COMMIT_BACKUP -> COMMIT_PRIMARY -> (lazy) TRUNCATE
// with ABORTING from the first two. Messages to this node are served by
// the Participant directly; to others they are RPCs sent in parallel.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "remora/common/latency.h"
#include "remora/node/engine.h"
#include "remora/txn/object.h"
#include "remora/txn/txn_engine.h"
#include "txn/participant.h"
#include "txn/wire.h"

namespace remora {

using txn_detail::EntryHeader;
using txn_detail::Method;
using txn_detail::MsgHeader;
using txn_detail::MsgWriter;
using txn_detail::padded;

namespace txn_detail {

// One message of the protocol to one node.
struct Outgoing {
  NodeId to;
  Method method;
  MsgWriter msg;
  Status status;
};

// The commit of one transaction: its messages, built from the Tx. Records
// to one node share a message while they fit in a ring record; payloads
// too large for one go ahead in kStage pieces.
struct CommitPlan {
  TxnEngine& eng;
  Tx& tx;
  const size_t limit;  // largest RPC request
  std::vector<Outgoing> stage_lock, lock, stage_backup, backup, primary;

  CommitPlan(TxnEngine& e, Tx& t) : eng(e), tx(t), limit(e.engine().rpc().max_request()) {}

  Outgoing fresh(NodeId n, Method m) {
    return Outgoing{n, m, MsgWriter(tx.id(), eng.store().map().epoch()), {}};
  }

  // The message to `n` that has room for `need` more bytes.
  MsgWriter& to(std::vector<Outgoing>& v, NodeId n, Method m, size_t need) {
    for (auto it = v.rbegin(); it != v.rend(); ++it) {
      if (it->to != n) continue;
      if (it->msg.size() + need <= limit) return it->msg;
      break;
    }
    const bool first = std::none_of(v.begin(), v.end(), [n](const Outgoing& o) { return o.to == n; });
    v.push_back(fresh(n, m));
    if (first && m == Method::kCommitBackup) eng.piggyback_truncations(n, v.back().msg);
    return v.back().msg;
  }

  void add(std::vector<Outgoing>& stage, std::vector<Outgoing>& v, NodeId n, Method m,
           const EntryHeader& h, std::span<const std::byte> payload) {
    const size_t room = sizeof(MsgHeader) + sizeof(TxId) * eng.options().truncate_batch;
    const size_t need = sizeof(EntryHeader) + padded(static_cast<uint32_t>(payload.size()));
    if (room + need <= limit) {
      to(v, n, m, need).add_entry(h, payload);
      return;
    }
    const size_t piece = (limit - sizeof(MsgHeader) - sizeof(EntryHeader)) & ~size_t{7};
    for (size_t off = 0; off < payload.size(); off += piece) {
      stage.push_back(fresh(n, Method::kStage));
      const size_t len = std::min(piece, payload.size() - off);
      stage.back().msg.add_entry(EntryHeader{h.addr, off, payload.size(), 0, 0}, payload.subspan(off, len));
    }
    to(v, n, m, sizeof(EntryHeader)).add_staged_entry(h);
  }

  void build() {
    const RegionMap& map = eng.store().map();
    for (const Tx::Entry& e : tx.entries_) {
      if (!e.written) continue;
      const EntryHeader h{e.addr.raw(), e.seen, obj::next_word(e.seen, !e.freed), e.size, 0};
      const std::span<const std::byte> payload(e.data, e.size);
      add(stage_lock, lock, e.primary, Method::kLock, h, payload);
      for (NodeId b : map.backups(e.addr.region()))
        add(stage_backup, backup, b, Method::kCommitBackup, h, payload);
    }
    for (const Outgoing& o : lock)
      if (std::none_of(primary.begin(), primary.end(), [&](const Outgoing& p) { return p.to == o.to; }))
        primary.push_back(fresh(o.to, Method::kCommitPrimary));
  }
};

}  // namespace txn_detail

using txn_detail::CommitPlan;
using txn_detail::Outgoing;

void TxnEngine::piggyback_truncations(NodeId node, MsgWriter& w) {
  auto it = to_truncate_.find(node);
  if (it == to_truncate_.end()) return;
  std::vector<TxId>& ids = it->second;
  const size_t n = std::min<size_t>(ids.size(), options_.truncate_batch);
  for (size_t i = ids.size() - n; i < ids.size(); ++i) w.add_trunc(ids[i]);
  ids.resize(ids.size() - n);
}

Status TxnEngine::send(Context& ctx, std::vector<Outgoing>& out) {
  std::vector<Context::Call> calls;
  std::vector<size_t> remote;
  std::vector<std::byte> resp;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].to == self()) {
      resp.clear();
      out[i].status = participant_->handle(out[i].method, self(), out[i].msg.bytes(), resp);
    } else {
      calls.push_back({out[i].to, out[i].method, out[i].msg.bytes(), nullptr, {}});
      remote.push_back(i);
    }
  }
  if (!calls.empty()) (void)ctx.call_all(calls, options_.rpc_timeout);
  for (size_t k = 0; k < remote.size(); ++k) out[remote[k]].status = std::move(calls[k].status);
  for (const Outgoing& o : out)
    if (!o.status.ok()) return o.status;
  return Status::OK();
}

Status TxnEngine::post(Context& ctx, std::vector<Outgoing>& out) {
  std::vector<std::byte> resp;
  const uint64_t give_up = now_ns() + static_cast<uint64_t>(options_.rpc_timeout.count());
  for (Outgoing& o : out) {
    if (o.to == self()) {
      resp.clear();
      o.status = participant_->handle(o.method, self(), o.msg.bytes(), resp);
      continue;
    }
    // A ring record of type `method`: ordered after everything this thread
    // sent to that node before, and before everything it sends later.
    for (;;) {
      o.status = engine_.messenger().send(o.to, o.method, o.msg.bytes());
      if (o.status.code() != Code::kFull || now_ns() > give_up) break;
      ctx.yield();  // the ring drains as the peer polls
    }
  }
  for (const Outgoing& o : out)
    if (!o.status.ok()) return o.status;
  return Status::OK();
}

Status TxnEngine::abort_locks(Context& ctx, Tx& tx, const std::vector<Outgoing>& lock, bool staged) {
  std::vector<Outgoing> aborts;
  for (const Outgoing& o : lock) {
    // A refusal released what it had taken (and its staged payloads);
    // anything else may hold locks or staged pieces. One ABORT per node.
    if (o.status.code() == Code::kConflict && !staged) continue;
    if (std::any_of(aborts.begin(), aborts.end(), [&](const Outgoing& a) { return a.to == o.to; })) continue;
    aborts.push_back({o.to, Method::kAbort, MsgWriter(tx.id(), store_.map().epoch()), {}});
  }
  return post(ctx, aborts);
}

Status TxnEngine::commit(Context& ctx, Tx& tx, AbortCause* cause) {
  if (tx.write_set_size() == 0) {
    // Read-only: one consistent read needs nothing more; more need validation.
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
  CommitPlan plan(*this, tx);
  plan.build();
  // LOCKING (large payloads staged first)
  Status st = send(ctx, plan.stage_lock);
  if (st.ok()) st = send(ctx, plan.lock);
  if (st.ok()) {
    // VALIDATING
    st = validate(ctx, tx);
    if (!st.ok()) *cause = st.code() == Code::kConflict ? AbortCause::kValidation : AbortCause::kError;
  } else {
    *cause = st.code() == Code::kConflict ? AbortCause::kLockRefused : AbortCause::kError;
  }
  // COMMIT_BACKUP
  if (st.ok()) {
    st = send(ctx, plan.stage_backup);
    if (st.ok()) st = send(ctx, plan.backup);
    if (!st.ok()) *cause = AbortCause::kError;
  }
  if (!st.ok()) {
    (void)abort_locks(ctx, tx, plan.lock, !plan.stage_lock.empty());  // ABORTING
    requeue_truncations(plan.backup);
    return st;
  }
  // COMMIT_PRIMARY: committed once every backup has the records; a local
  // primary installs at once, remote ones as their record arrives (until
  // then the objects stay locked, so no reader sees the old versions).
  tx.installing_ = true;
  st = post(ctx, plan.primary);
  if (!st.ok()) {
    *cause = AbortCause::kError;
    return st.with_context("commit-primary (outcome unknown until recovery)");
  }
  ++stats_.commits;
  for (const Outgoing& o : plan.backup) to_truncate_[o.to].push_back(tx.id());
  return maybe_truncate(ctx);
}

void TxnEngine::requeue_truncations(const std::vector<Outgoing>& backup) {
  // The message may not have arrived: truncation is idempotent, send again.
  for (const Outgoing& o : backup) {
    auto m = txn_detail::parse_msg(o.msg.bytes());
    if (!m.ok()) continue;
    for (const TxId& id : m->truncs) to_truncate_[o.to].push_back(id);
  }
}

Status TxnEngine::maybe_truncate(Context& ctx) {
  for (auto& [node, ids] : to_truncate_)
    if (ids.size() > 2 * options_.truncate_batch) return flush_truncations(ctx);
  return Status::OK();
}

Status TxnEngine::flush_truncations(Context& ctx) {
  std::vector<Outgoing> out;
  for (auto& [node, ids] : to_truncate_) {
    if (ids.empty()) continue;
    out.push_back({node, Method::kTruncate, MsgWriter(TxId{}, store_.map().epoch()), {}});
    for (const TxId& id : ids) out.back().msg.add_trunc(id);
    ids.clear();
    ++stats_.truncations_sent;
  }
  Status st = send(ctx, out);
  if (!st.ok()) requeue_truncations(out);
  return st;
}

Status TxnEngine::validate(Context& ctx, Tx& tx, bool during_execution) {
  // Objects only read (during execution: every object read, as nothing is
  // locked yet) must still carry the word they were read with.
  std::map<NodeId, std::vector<const Tx::Entry*>> by_node;
  for (const Tx::Entry& e : tx.entries_)
    if (e.read && (during_execution || !e.written)) by_node[e.primary].push_back(&e);
  std::vector<Outgoing> rpcs;
  std::vector<const Tx::Entry*> one_sided;
  for (auto& [node, entries] : by_node) {
    if (node == self() || entries.size() <= options_.validate_rpc_threshold) {
      one_sided.insert(one_sided.end(), entries.begin(), entries.end());
      continue;
    }
    rpcs.push_back({node, Method::kValidate, MsgWriter(tx.id(), store_.map().epoch()), {}});
    for (const Tx::Entry* e : entries) rpcs.back().msg.add_entry({e->addr.raw(), e->seen, 0, 0, 0}, {});
  }
  stats_.validated_one_sided += one_sided.size();
  REMORA_RETURN_IF_ERROR(validate_one_sided(ctx, one_sided));
  stats_.validate_rpcs += rpcs.size();
  return send(ctx, rpcs);
}

Status TxnEngine::validate_one_sided(Context& ctx, std::span<const Tx::Entry* const> entries) {
  const auto scratch = ctx.scratch();
  const size_t per_batch = scratch.size() / 8;
  std::vector<WorkRequest> batch;
  for (size_t base = 0; base < entries.size(); base += per_batch) {
    const size_t n = std::min(per_batch, entries.size() - base);
    batch.clear();
    for (size_t i = 0; i < n; ++i) {
      const Tx::Entry& e = *entries[base + i];
      std::byte* dst = scratch.data() + 8 * i;
      if (e.primary == self()) {
        const uint64_t w = obj::load_word(store_.local_object(e.addr, obj::kHeaderSize));
        std::memcpy(dst, &w, 8);
      } else {
        batch.push_back({Op::kRead, e.primary, e.addr, dst, 8});
      }
    }
    REMORA_RETURN_IF_ERROR(ctx.execute(batch));
    for (size_t i = 0; i < n; ++i) {
      const Tx::Entry& e = *entries[base + i];
      uint64_t now;
      std::memcpy(&now, scratch.data() + 8 * i, 8);
      if (now != e.seen)
        return Status::Conflict(fmt::format("validation of {} failed: {} at version {}, read at {}",
                                            e.addr.to_string(), obj::locked(now) ? "locked" : "changed",
                                            obj::version(now), obj::version(e.seen)));
    }
  }
  return Status::OK();
}

}  // namespace remora
