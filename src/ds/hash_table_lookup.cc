// HashTable::lookup: lock-free, one consistent one-sided read per bucket
// walked plus one per out-of-line entry checked (docs/ds.md).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

#include "ds/bucket.h"
#include "ds/read_buf.h"
#include "remora/ds/hash_table.h"
#include "remora/history/history.h"
#include "remora/runtime/context.h"
#include "remora/txn/txn_engine.h"

namespace remora {

using ds_detail::Layout;

namespace {

constexpr uint32_t kLookupAttempts = 16;  // whole-lookup retries before kConflict
constexpr uint32_t kMaxChain = 1u << 16;  // longer: the chain changed under us
constexpr auto kBackoffBase = std::chrono::microseconds(1);
constexpr uint32_t kBackoffDoublings = 9;  // at most 512 us between attempts

enum class Step { kDone, kRetry };

// Buckets read by one pass, with their versions (for the miss check).
class Seen {
 public:
  void add(GAddr a, uint64_t v) {
    if (n_ < small_.size())
      small_[n_] = {a, v};
    else
      big_.push_back({a, v});
    ++n_;
  }
  size_t size() const { return n_; }
  std::pair<GAddr, uint64_t> at(size_t i) const { return i < small_.size() ? small_[i] : big_[i - small_.size()]; }

 private:
  std::array<std::pair<GAddr, uint64_t>, 8> small_{};
  std::vector<std::pair<GAddr, uint64_t>> big_;
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

struct Pass {
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

  // Searches one bucket copy (bucket `at`, version `version`): kDone with
  // result set if found.
  Step search(const std::byte* b, GAddr at, uint64_t version, bool* found) {
    for (int i = layout.find(b, hash, key); i >= 0; i = layout.find(b, hash, key, static_cast<uint32_t>(i) + 1)) {
      const auto slot = static_cast<uint32_t>(i);
      if (layout.is_inline(layout.slot(b, slot))) {
        const auto v = layout.inline_value(b, slot);
        value->assign(v.begin(), v.end());
        hit = {at.raw(), version};
        *found = true;
        return Step::kDone;
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
    const auto buf = rb.get(layout.overflow_size());
    Seen seen;
    GAddr a = table.bucket_addr(hash % table.buckets());
    for (uint32_t n = 0; n < kMaxChain; ++n) {
      uint64_t v = 0;
      if (read(a, n == 0 ? buf.first(layout.bucket_size()) : buf, &v, n > 0) == Step::kRetry) return Step::kRetry;
      if (!result.ok()) return Step::kDone;
      if (!layout.is_bucket(buf.data())) {
        if (n > 0) return Step::kRetry;  // a stale link: the slot was reused
        result = Status::Corrupt(fmt::format("hash table {}: {} is no bucket", table.name(), a.to_string()));
        return Step::kDone;
      }
      ++info.buckets;
      bool found = false;
      if (search(buf.data(), a, v, &found) == Step::kRetry) return Step::kRetry;
      if (found && result.ok()) txn.record_lockfree(start_ns, {&hit, 1});
      if (found || !result.ok()) return Step::kDone;
      seen.add(a, v);
      const uint64_t next = layout.head(buf.data()).overflow;
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
  Pass p{ctx, txn, *this, Layout(*this), hash_key(key), key, value, in, start, Status::OK()};
  for (uint32_t i = 0; i < kLookupAttempts; ++i) {
    if (p.run() == Step::kDone) return p.result;
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
