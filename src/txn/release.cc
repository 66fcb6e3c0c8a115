// Reuse of freed runs (docs/transactions.md, "Freed memory"): a run of
// whole blocks that a committed transaction freed goes back to its
// primary's free blocks only after every backup applied the free, so that
// no backup can later apply a record of the object's earlier life onto
// memory that holds other objects by then.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "remora/node/engine.h"
#include "remora/txn/object.h"
#include "remora/txn/txn_engine.h"
#include "txn/attempt_scratch.h"
#include "txn/outgoing.h"
#include "txn/slabs.h"
#include "txn/wire.h"

namespace remora {

using txn_detail::Method;
using txn_detail::MsgWriter;
using txn_detail::OutList;

void TxnEngine::queue_release(const Tx& tx) {
  for (const Tx::Entry& e : tx.entries_) {
    if (!e.freed || e.fresh || slabs_->slot_for(e.size) != 0) continue;
    auto it = std::find_if(to_release_.begin(), to_release_.end(), [&](const PendingRelease& p) {
      return p.tx == tx.id() && p.primary == e.primary;
    });
    if (it == to_release_.end()) {
      to_release_.push_back(PendingRelease{tx.id(), {}, e.primary, {}});
      it = to_release_.end() - 1;
    }
    for (NodeId b : store_.map().backups(e.addr.region()))
      if (std::find(it->backups.begin(), it->backups.end(), b) == it->backups.end()) it->backups.push_back(b);
    it->runs.emplace_back(e.addr.raw(), e.new_word());
  }
}

Status TxnEngine::release_runs(Context& ctx) {
  if (to_release_.empty()) return Status::OK();
  std::vector<PendingRelease> todo;
  todo.swap(to_release_);  // coroutines of this thread may queue more meanwhile
  const uint32_t epoch = store_.map().epoch();
  Status first;
  txn_detail::ScratchLease s(scratch_pool_);
  for (PendingRelease& p : todo) {
    OutList& truncs = s->truncs;
    truncs.clear();
    for (NodeId b : p.backups) REMORA_RETURN_IF_ERROR(truncs.add(b, Method::kTruncate, TxId{}, epoch).msg.add_trunc(p.tx));
    Status st = send(ctx, truncs, s->io);
    if (st.ok()) {
      OutList& rel = s->aborts;  // not otherwise used by a flush
      rel.clear();
      MsgWriter& w = rel.add(p.primary, Method::kRelease, p.tx, epoch).msg;
      for (const auto& [addr, word] : p.runs) REMORA_RETURN_IF_ERROR(w.add_entry({addr, 0, word, 0, 0}, {}));
      st = deliver(ctx, rel, s->io);
      if (st.ok()) {
        ++stats_.runs_released;
        continue;
      }
      // The primary is gone: its blocks are recovery's to rebuild.
      spdlog::warn("node {} thread {}: RELEASE to node {}: {}", self(), thread(), p.primary, st.to_string());
      continue;
    }
    if (first.ok()) first = st;
    to_release_.push_back(std::move(p));  // try again at the next flush
  }
  return first;
}

}  // namespace remora
