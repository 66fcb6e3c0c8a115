// The commit protocol's messaging, coordinator side: RPC phases (send),
// one-way records of a decided outcome (deliver), validation and
// truncation.
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
using txn_detail::OutList;
using txn_detail::Outgoing;
using txn_detail::SendScratch;

Status TxnEngine::send(Context& ctx, OutList& out, SendScratch& io) {
  io.calls.clear();
  io.remote.clear();
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].sent = true;
    if (out[i].to == self()) {
      io.resp.clear();
      out[i].status = participant_->handle(out[i].method, self(), out[i].msg.bytes(), io.resp);
    } else {
      io.calls.push_back({out[i].to, out[i].method, out[i].msg.bytes(), nullptr, {}});
      io.remote.push_back(i);
    }
  }
  if (!io.calls.empty()) (void)ctx.call_all(io.calls, options_.rpc_timeout);
  for (size_t k = 0; k < io.remote.size(); ++k) out[io.remote[k]].status = std::move(io.calls[k].status);
  for (const Outgoing& o : out)
    if (!o.status.ok()) return o.status;
  return Status::OK();
}

Status TxnEngine::post_once(NodeId to, Method method, std::span<const std::byte> bytes) {
  if (options_.faults) REMORA_RETURN_IF_ERROR(options_.faults->before_post(self(), to, method));
  return engine_.messenger().send(to, method, bytes);
}

// A decided outcome must reach every peer (docs/transactions.md): a full
// ring is waited out however long it stays full — the receiver may be
// descheduled on a loaded machine — backing off from yields to sleeps of up
// to 1 ms. Only a peer declared failed (kPeerGone) or a broken link ends
// the wait; recovery decides the transaction then.
Status TxnEngine::deliver_one(Context& ctx, Outgoing& o) {
  constexpr uint32_t kYields = 64;
  const uint64_t start = now_ns();
  bool warned = false;
  for (uint32_t tries = 0;; ++tries) {
    o.status = post_once(o.to, o.method, o.msg.bytes());
    if (o.status.code() != Code::kFull) return o.status;
    ++stats_.full_ring_waits;
    if (tries < kYields) {
      ctx.yield();  // the ring drains as the peer polls
      continue;
    }
    const uint32_t shift = std::min<uint32_t>(tries - kYields, 10);
    ctx.sleep_for(std::chrono::microseconds(1u << shift));
    if (!warned && now_ns() - start > static_cast<uint64_t>(options_.rpc_timeout.count())) {
      warned = true;
      spdlog::warn("node {} thread {}: ring to node {} full for {} ms; still delivering record {}", self(),
                   thread(), o.to, (now_ns() - start) / 1000000, static_cast<int>(o.method));
    }
  }
}

Status TxnEngine::deliver(Context& ctx, OutList& out, SendScratch& io) {
  for (Outgoing& o : out) {
    o.sent = true;
    if (o.to == self()) {
      io.resp.clear();
      o.status = participant_->handle(o.method, self(), o.msg.bytes(), io.resp);
      continue;
    }
    // A ring record of type `method`: ordered after everything this thread
    // sent to that node before, and before everything it sends later.
    (void)deliver_one(ctx, o);
  }
  for (const Outgoing& o : out)
    if (!o.status.ok()) return o.status;
  return Status::OK();
}

Status TxnEngine::maybe_truncate(Context& ctx) {
  for (auto& [node, ids] : to_truncate_)
    if (ids.size() > 2 * options_.truncate_batch) return flush_truncations(ctx);
  return Status::OK();
}

Status TxnEngine::flush_truncations(Context& ctx) {
  txn_detail::ScratchLease s(scratch_pool_);
  return flush_truncations(ctx, *s);
}

Status TxnEngine::flush_truncations(Context& ctx, txn_detail::AttemptScratch& s) {
  const size_t limit = engine_.rpc().max_request();
  const uint32_t epoch = store_.map().epoch();
  OutList& out = s.truncs;
  out.clear();
  for (auto& [node, ids] : to_truncate_) {
    for (const TxId& id : ids) {
      txn_detail::MsgWriter& w =
          txn_detail::message_to(out, node, Method::kTruncate, TxId{}, epoch, sizeof(TxId), limit, true);
      REMORA_RETURN_IF_ERROR(w.add_trunc(id));
    }
    ids.clear();
  }
  stats_.truncations_sent += out.size();
  Status st = send(ctx, out, s.io);
  if (!st.ok()) {
    requeue_truncations(out);
    return st;
  }
  return release_runs(ctx);
}

void TxnEngine::collect_reads(Tx& tx, bool during_execution) {
  // Objects only read (during execution: every object read, as nothing is
  // locked yet) must still carry the word they were read with. Sorted by
  // primary, in entry order within one (no allocation, unlike a map).
  std::vector<const Tx::Entry*>& reads = tx.scratch_.reads;
  reads.clear();
  for (const Tx::Entry& e : tx.entries_)
    if (e.read && (during_execution || !e.written)) reads.push_back(&e);
  std::sort(reads.begin(), reads.end(), [](const Tx::Entry* a, const Tx::Entry* b) {
    return a->primary != b->primary ? a->primary < b->primary : a < b;
  });
}

Status TxnEngine::validate(Context& ctx, Tx& tx, bool during_execution) {
  txn_detail::AttemptScratch& s = tx.scratch_;
  collect_reads(tx, during_execution);
  const size_t limit = engine_.rpc().max_request();
  OutList& rpcs = s.validate;
  rpcs.clear();
  s.one_sided.clear();
  for (size_t i = 0, j = 0; i < s.reads.size(); i = j) {
    const NodeId node = s.reads[i]->primary;
    for (j = i; j < s.reads.size() && s.reads[j]->primary == node;) ++j;
    if (node == self() || j - i <= options_.validate_rpc_threshold) {
      s.one_sided.insert(s.one_sided.end(), s.reads.begin() + i, s.reads.begin() + j);
      continue;
    }
    for (size_t k = i; k < j; ++k) {
      txn_detail::MsgWriter& w = txn_detail::message_to(rpcs, node, Method::kValidate, tx.id(),
                                                        store_.map().epoch(), sizeof(EntryHeader), limit);
      REMORA_RETURN_IF_ERROR(w.add_entry({s.reads[k]->addr.raw(), s.reads[k]->seen, 0, 0, 0}, {}));
    }
  }
  stats_.validated_one_sided += s.one_sided.size();
  REMORA_RETURN_IF_ERROR(validate_one_sided(ctx, s));
  stats_.validate_rpcs += rpcs.size();
  return send(ctx, rpcs, s.io);
}

// A changed word is a conflict: its details are kept in the scratch and
// formatted only if the transaction gives up (LocalConflict).
Status TxnEngine::validate_one_sided(Context& ctx, txn_detail::AttemptScratch& s) {
  const std::span<const Tx::Entry* const> entries = s.one_sided;
  const auto scratch = ctx.scratch();
  const size_t per_batch = scratch.size() / 8;
  std::vector<WorkRequest>& batch = s.batch;
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
      if (now == e.seen) continue;
      s.conflict = {e.addr.raw(), now, e.seen, true};
      return Status::Conflict("validation");
    }
  }
  return Status::OK();
}

}  // namespace remora
