// TxnEngine: lock-free reads as history records (docs/history.md). Kept
// apart from txn_engine.cc: only recording lives here, the read itself is
// lockfree_read_unrecorded().
#include "remora/history/history.h"
#include "remora/txn/txn_engine.h"

namespace remora {

Status TxnEngine::lockfree_read_bytes(Context& ctx, GAddr a, std::span<std::byte> out, uint64_t* version) {
  const uint64_t start = options_.history ? now_ns() : 0;
  uint64_t v = 0;
  Status st = lockfree_read_unrecorded(ctx, a, out, &v);
  // kOk and kNotFound are consistent reads (of an allocated or a free
  // object); anything else saw no version.
  if (options_.history && (st.ok() || st.code() == Code::kNotFound)) {
    const std::pair<uint64_t, uint64_t> read{a.raw(), v};
    record_lockfree(start, {&read, 1});
  }
  if (version && st.ok()) *version = v;
  return st;
}

void TxnEngine::record_lockfree(uint64_t start_ns, std::span<const std::pair<uint64_t, uint64_t>> reads) {
  if (!options_.history) return;
  HistoryRecord r;
  r.tx = next_id();  // the attempts' counter: ids stay unique per thread
  r.start_ns = start_ns;
  r.outcome = TxOutcome::kCommit;
  r.lockfree = true;
  r.reads.assign(reads.begin(), reads.end());
  r.end_ns = now_ns();
  options_.history->append(r);
}

}  // namespace remora
