// HashTable::count: every bucket array read in large one-sided READs (the
// local one straight from memory), overflow chains followed with lock-free
// reads. For checks on a quiescent table. Its reads are not recorded in the
// history: a scan is no single linearizable read, and after a run it would
// only add one record per overflow bucket.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "ds/bucket.h"
#include "remora/ds/hash_table.h"
#include "remora/runtime/context.h"
#include "remora/txn/object.h"
#include "remora/txn/txn_engine.h"

namespace remora {
namespace {

using ds_detail::Layout;

// Entries in the chain after `first` (a bucket payload's overflow link).
Status count_chain(Context& ctx, TxnEngine& txn, const Layout& l, uint64_t next, uint64_t* n) {
  std::vector<std::byte> b(l.overflow_size());  // overflow buckets fill their slab slot
  for (uint32_t hops = 0; next != 0; ++hops) {
    if (hops > (1u << 20)) return Status::Corrupt("overflow chain does not end");
    REMORA_RETURN_IF_ERROR(txn.lockfree_read_unrecorded(ctx, GAddr::from_raw(next), b, nullptr));
    *n += l.head(b.data()).used;
    next = l.head(b.data()).overflow;
  }
  return Status::OK();
}

// One bucket object copy (header + payload) of the array: its entries and
// its chain's. A copy that is locked or torn is read again on its own.
Status count_bucket(Context& ctx, TxnEngine& txn, const Layout& l, GAddr addr, std::span<const std::byte> copy,
                    uint64_t* n) {
  std::vector<std::byte> fresh;
  const std::byte* payload = copy.data() + obj::kHeaderSize;
  if (obj::check(copy) != obj::Check::kOk) {
    fresh.resize(l.bucket_size());
    REMORA_RETURN_IF_ERROR(txn.lockfree_read_unrecorded(ctx, addr, fresh, nullptr));
    payload = fresh.data();
  }
  *n += l.head(payload).used;
  return count_chain(ctx, txn, l, l.head(payload).overflow, n);
}

}  // namespace

Result<uint64_t> HashTable::count(Context& ctx, TxnEngine& txn) const {
  const Layout l(*this);
  const auto scratch = ctx.scratch();
  uint64_t n = 0;
  for (size_t p = 0; p < arrays_.size(); ++p) {
    const Table& t = arrays_[p];
    if (t.stride > scratch.size()) {  // buckets larger than the scratch: one lock-free read each
      std::vector<std::byte> b(l.bucket_size());
      for (uint32_t row = 0; row < t.rows; ++row) {
        REMORA_RETURN_IF_ERROR(txn.lockfree_read_unrecorded(ctx, t.row(row), b, nullptr));
        n += l.head(b.data()).used;
        REMORA_RETURN_IF_ERROR(count_chain(ctx, txn, l, l.head(b.data()).overflow, &n));
      }
      continue;
    }
    // Chunks go scratch -> `buf`: chains are followed with lock-free reads,
    // which use the scratch themselves.
    const uint32_t per_read = static_cast<uint32_t>(scratch.size() / t.stride);
    std::vector<std::byte> chunk(size_t{per_read} * t.stride);
    const std::span<std::byte> buf = chunk;
    for (uint32_t row = 0; row < t.rows; row += per_read) {
      const uint32_t k = std::min(per_read, t.rows - row);
      const size_t len = size_t{k} * t.stride;
      if (nodes_[p] == ctx.self()) {
        const std::byte* src = txn.store().local_object(t.row(row), static_cast<uint32_t>(len));
        if (!src) return Status::Internal(fmt::format("bucket array {} is not local", t.name));
        std::memcpy(buf.data(), src, len);
      } else {
        REMORA_RETURN_IF_ERROR(ctx.read(nodes_[p], t.row(row), scratch.data(), static_cast<uint32_t>(len)));
        std::memcpy(buf.data(), scratch.data(), len);
      }
      for (uint32_t i = 0; i < k; ++i)
        REMORA_RETURN_IF_ERROR(count_bucket(ctx, txn, l, t.row(row + i),
                                            buf.subspan(size_t{i} * t.stride, obj::kHeaderSize + l.bucket_size()), &n));
    }
  }
  return n;
}

}  // namespace remora
