// HashTable::lookup: lock-free, one consistent one-sided read per bucket
// walked plus one per out-of-line entry checked (docs/ds.md).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

#include "ds/bucket.h"
#include "ds/read_buf.h"
#include "remora/ds/hash_table.h"
#include "remora/history/history.h"
#include "remora/runtime/context.h"
#include "remora/txn/object.h"
#include "remora/txn/txn_engine.h"

namespace remora {

using ds_detail::Layout;

namespace {

constexpr uint32_t kLookupAttempts = 16;  // whole-lookup retries before kConflict
constexpr uint32_t kMaxChain = 1u << 16;  // longer: the chain changed under us
constexpr auto kBackoffBase = std::chrono::microseconds(1);
constexpr uint32_t kBackoffDoublings = 9;  // at most 512 us between attempts

enum class Step { kDone, kRetry };

// hash % n, the same number the writers compute, in two steps whose
// quotients fit 32 bits: a 64-bit division's latency grows with its
// quotient, and hash / n has about 53 bits (profiled: the lookup's one
// costly instruction outside the read).
uint64_t bucket_of(uint64_t hash, uint64_t n) {
  if (n > UINT32_MAX) return hash % n;
  const uint64_t high = (hash >> 32) % n;
  return ((high << 32) | (hash & UINT32_MAX)) % n;
}

// Buckets read by one pass, with their versions (for the miss check). The
// first few live in uninitialized storage: zeroing it (a `rep stos`) was a
// quarter of the lookup's own time.
class Seen {
 public:
  void add(GAddr a, uint64_t v) {
    if (n_ < kSmall) {
      addr_[n_] = a.raw();
      version_[n_] = v;
    } else {
      big_.push_back({a.raw(), v});
    }
    ++n_;
  }
  size_t size() const { return n_; }
  std::pair<GAddr, uint64_t> at(size_t i) const {
    if (i < kSmall) return {GAddr::from_raw(addr_[i]), version_[i]};
    return {GAddr::from_raw(big_[i - kSmall].first), big_[i - kSmall].second};
  }

 private:
  static constexpr size_t kSmall = 8;
  uint64_t addr_[kSmall];
  uint64_t version_[kSmall];
  std::vector<std::pair<uint64_t, uint64_t>> big_;
  size_t n_ = 0;
};

// Errors that mean "what we followed changed": an overflow bucket or
// object freed, reused at another size (or as another kind of object, so
// that what we took for an address is not one), or locked for long.
// `may_change`: the address came from another object (not a bucket array row).
bool changed(const Status& st, bool may_change) {
  if (st.code() == Code::kConflict) return true;
  return may_change && (st.code() == Code::kNotFound || st.code() == Code::kInvalidArgument ||
                        st.code() == Code::kOutOfRange);
}

// Built by a constructor, not aggregate initialization: GCC zeroed the
// whole struct with a `rep stos` for that, a tenth of the lookup's own time.
struct Pass {
  Pass(Context& c, TxnEngine& t, const HashTable& tab, std::span<const std::byte> k, std::vector<std::byte>* v,
       HashOpInfo& i, uint64_t start)
      : ctx(c), txn(t), table(tab), layout(tab), hash(hash_key(k)), key(k), value(v), info(i), start_ns(start) {}

  Context& ctx;
  TxnEngine& txn;
  const HashTable& table;
  Layout layout;
  uint64_t hash;
  std::span<const std::byte> key;
  std::vector<std::byte>* value;
  HashOpInfo& info;
  uint64_t start_ns;  // of the whole lookup: the interval the history records
  Status result;
  // What a hit rests on: the bucket holding it inline, or its out-of-line
  // object (raw GAddr, version).
  std::pair<uint64_t, uint64_t> hit{};
  // An out-of-line candidate held another key: a hash collision, or the
  // object was reused after the bucket was read (then the bucket changed).
  bool mismatched = false;

  Step read(GAddr a, std::span<std::byte> out, uint64_t* version, bool may_change) {
    ++info.reads;
    // Unrecorded: the lookup is recorded once, with the reads its result rests on.
    result = txn.lockfree_read_unrecorded(ctx, a, out, version);
    if (result.ok()) return Step::kDone;
    return changed(result, may_change) ? Step::kRetry : Step::kDone;
  }

  // Reads bucket `a` (`size` payload bytes) and checks it in place, without
  // a copy: in the coroutine's scratch when it fits, else in `spill`.
  // *b points at the checked payload.
  Step read_bucket(GAddr a, uint32_t size, std::span<std::byte> spill, const std::byte** b, uint64_t* version,
                   bool may_change) {
    ++info.reads;
    const size_t need = obj::kHeaderSize + size;
    const auto scratch = ctx.scratch();
    const auto into = need <= scratch.size() ? scratch.first(need) : spill.first(need);
    std::span<const std::byte> payload;
    result = txn.lockfree_view_unrecorded(ctx, a, into, &payload, version);
    if (result.ok()) {
      *b = payload.data();
      return Step::kDone;
    }
    return changed(result, may_change) ? Step::kRetry : Step::kDone;
  }

  // Reads the out-of-line entry of slot i into *value; true if its key is ours.
  Step check_object(const std::byte* b, uint32_t i, bool* match) {
    const ds_detail::SlotHead s = layout.slot(b, i);
    info.out_of_line = true;
    value->resize(layout.object_size(s.key_len, s.value_len));
    const GAddr o = layout.object_of(b, i);
    uint64_t version = 0;
    if (read(o, *value, &version, true) == Step::kRetry) return Step::kRetry;
    if (!result.ok()) return Step::kDone;
    if (!Layout::is_entry(*value)) return Step::kRetry;  // the slot was reused
    // The object's own lengths: the slot's may be older than the object.
    *match = Layout::object_holds(*value, key);
    if (!*match) {
      mismatched = true;
      return Step::kDone;
    }
    hit = {o.raw(), version};
    const auto v = Layout::object_value(*value);
    const size_t off = static_cast<size_t>(v.data() - value->data()), len = v.size();
    value->erase(value->begin(), value->begin() + static_cast<std::ptrdiff_t>(off));
    value->resize(len);
    return Step::kDone;
  }

  // Searches one bucket (at `b`, `size` bytes; bucket `at`, version
  // `version`): kDone with result set if found. Before reading an
  // out-of-line entry, which reuses the scratch, moves a bucket that lies in
  // the scratch to `keep` and points b there.
  Step search(const std::byte*& b, uint32_t size, std::span<std::byte> keep, GAddr at, uint64_t version,
              bool* found) {
    for (int i = layout.find(b, hash, key); i >= 0; i = layout.find(b, hash, key, static_cast<uint32_t>(i) + 1)) {
      const auto slot = static_cast<uint32_t>(i);
      if (layout.is_inline(layout.slot(b, slot))) {
        const auto v = layout.inline_value(b, slot);
        value->assign(v.begin(), v.end());
        hit = {at.raw(), version};
        *found = true;
        return Step::kDone;
      }
      const auto scratch = ctx.scratch();
      if (b >= scratch.data() && b < scratch.data() + scratch.size()) {
        std::memcpy(keep.data(), b, size);
        b = keep.data();
      }
      if (check_object(b, slot, found) == Step::kRetry) return Step::kRetry;
      if (*found || !result.ok()) return Step::kDone;
    }
    return Step::kDone;
  }

  // A miss is linearizable if the buckets before the last did not change
  // since they were read (then the chain was whole at the last read); after
  // a mismatched candidate, the last one too (then it was a collision).
  Step confirm_miss(const Seen& seen, std::span<std::byte> buf) {
    for (size_t i = 0; i + (mismatched ? 0 : 1) < seen.size(); ++i) {
      uint64_t v = 0;
      const auto copy = i == 0 ? buf.first(layout.bucket_size()) : buf;
      if (read(seen.at(i).first, copy, &v, true) == Step::kRetry) return Step::kRetry;
      if (!result.ok()) return Step::kDone;
      if (v != seen.at(i).second) return Step::kRetry;
    }
    result = Status::NotFound("key not in the hash table");
    // The miss rests on every bucket of the chain: all held the versions
    // read when the last one was read.
    if (txn.recording_history()) {
      std::vector<std::pair<uint64_t, uint64_t>> reads;
      for (size_t i = 0; i < seen.size(); ++i) reads.emplace_back(seen.at(i).first.raw(), seen.at(i).second);
      txn.record_lockfree(start_ns, reads);
    }
    return Step::kDone;
  }

  Step run() {
    mismatched = false;
    ds_detail::ReadBuf rb;
    // Room for a bucket with its object header (read_bucket's spill), or
    // for a bucket's payload alone (search's keep, confirm_miss).
    const auto spill = rb.get(obj::kHeaderSize + layout.overflow_size());
    const auto buf = spill.first(layout.overflow_size());
    Seen seen;
    GAddr a = table.bucket_addr(bucket_of(hash, table.buckets()));
    for (uint32_t n = 0; n < kMaxChain; ++n) {
      uint64_t v = 0;
      const uint32_t size = n == 0 ? layout.bucket_size() : layout.overflow_size();
      const std::byte* b = nullptr;
      if (read_bucket(a, size, spill, &b, &v, n > 0) == Step::kRetry) return Step::kRetry;
      if (!result.ok()) return Step::kDone;
      if (!layout.is_bucket(b)) {
        if (n > 0) return Step::kRetry;  // a stale link: the slot was reused
        result = Status::Corrupt(fmt::format("hash table {}: {} is no bucket", table.name(), a.to_string()));
        return Step::kDone;
      }
      ++info.buckets;
      bool found = false;
      if (search(b, size, buf, a, v, &found) == Step::kRetry) return Step::kRetry;
      if (found && result.ok()) txn.record_lockfree(start_ns, {&hit, 1});
      if (found || !result.ok()) return Step::kDone;
      seen.add(a, v);
      const uint64_t next = layout.head(b).overflow;
      if (next == 0) return confirm_miss(seen, buf);
      a = GAddr::from_raw(next);
    }
    return Step::kRetry;
  }
};

}  // namespace

Status HashTable::lookup(Context& ctx, TxnEngine& txn, std::span<const std::byte> key,
                         std::vector<std::byte>* value, HashOpInfo* info) const {
  REMORA_RETURN_IF_ERROR(ds_detail::check_entry(key, 0));
  HashOpInfo local;
  HashOpInfo& in = info ? *info : local;
  in = {};
  const uint64_t start = txn.recording_history() ? txn.now_ns() : 0;
  Pass p(ctx, txn, *this, key, value, in, start);
  for (uint32_t i = 0; i < kLookupAttempts; ++i) {
    if (p.run() == Step::kDone) return std::move(p.result);  // a copy would duplicate an error message
    in.buckets = 0;
    in.out_of_line = false;
    // Exponential backoff: a lock holder may be a coroutine of this thread
    // or a process the scheduler put to sleep.
    ctx.sleep_for(kBackoffBase * (1u << std::min(i, kBackoffDoublings)));
  }
  return Status::Conflict(fmt::format("hash table {}: lookup kept changing ({} attempts): {}", name_,
                                      kLookupAttempts, p.result.to_string()));
}

}  // namespace remora
