// The hash table: inserts, erases, puts, gets and lock-free lookups of a
// few shared keys from every node. Every value names its writer and
// carries a pattern, so garbage is detected where it is read. At the end,
// each key's state must be the value of a write that no committed write of
// that key started after (strict serializability, per key), and count()
// must equal the keys present.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "remora/ds/hash_table.h"
#include "remora/runtime/context.h"
#include "remora/txn/tx.h"
#include "sim/sim_workload.h"

namespace remora::sim {
namespace {

constexpr size_t kValueHeader = 12;  // writer id (8) + length (4)

std::vector<std::byte> make_value(uint64_t id, size_t len) {
  std::vector<std::byte> v(std::max(len, kValueHeader));
  const auto n = static_cast<uint32_t>(v.size());
  std::memcpy(v.data(), &id, 8);
  std::memcpy(v.data() + 8, &n, 4);
  for (size_t i = kValueHeader; i < v.size(); ++i) v[i] = static_cast<std::byte>((id * 31 + i) & 0xff);
  return v;
}

// The writer id of a well-formed value, 0 for garbage.
uint64_t value_id(const std::vector<std::byte>& v) {
  if (v.size() < kValueHeader) return 0;
  uint64_t id;
  uint32_t n;
  std::memcpy(&id, v.data(), 8);
  std::memcpy(&n, v.data() + 8, 4);
  if (n != v.size() || id == 0) return 0;
  for (size_t i = kValueHeader; i < v.size(); ++i)
    if (v[i] != static_cast<std::byte>((id * 31 + i) & 0xff)) return 0;
  return id;
}

struct WriteOp {
  uint64_t value = 0;  // writer id; 0: erase
  uint64_t start = 0, end = 0;
  bool committed = false;  // else unknown outcome
};

class Hash final : public SimWorkload {
 public:
  Status load(SimCluster& c, SimRng& rng) override {
    HashTableOptions o;
    o.buckets_per_node = static_cast<uint32_t>(rng.range(1, 8));  // small: overflow chains
    o.slots = static_cast<uint32_t>(rng.range(1, 4));
    o.inline_bytes = rng.chance(0.5) ? 32 : 64;
    const uint64_t keys = rng.range(4, 24);
    for (uint64_t k = 0; k < keys; ++k) {
      // Some keys are long, so their entries live out of line.
      keys_.push_back(rng.chance(0.2) ? fmt::format("key-{}-{:->40}", k, k) : fmt::format("key-{}", k));
    }
    log_.resize(keys_.size());
    for (NodeId n = 0; n < c.size(); ++n)
      REMORA_RETURN_IF_ERROR(HashTable::create(c.store(n), "kv", c.node_ids(), o));
    for (NodeId n = 0; n < c.size(); ++n) {
      auto t = c.store(n).table("kv.buckets");
      if (!t.ok()) return t.status();
      for (uint32_t i = 0; i < t->rows; ++i) buckets_.push_back(t->row(i));
    }
    return Status::OK();
  }

  void start(SimCluster& c, SimRng& rng) override {
    spawn_clients(c, rng, 3, [this, &c](NodeId n, uint64_t k, Context& ctx, SimRng& r, uint64_t ops) {
      return client(c, n, ctx, r, ops, (uint64_t{n} << 48) | (k << 32));
    });
  }

  Status check(SimCluster& c) override {
    std::vector<uint64_t> final_ids(keys_.size(), 0);
    Status out = Status::Internal("check did not run");
    uint64_t counted = 0;
    c.worker(0).spawn([&](Context& ctx) {
      auto t = open(c.txn(0), ctx);
      if (!t.ok()) return void(out = t.status());
      for (size_t k = 0; k < keys_.size(); ++k) {
        std::vector<std::byte> v;
        Status st = t->lookup(ctx, c.txn(0), key(k), &v);
        if (st.code() == Code::kNotFound) continue;
        if (!st.ok()) return void(out = st.with_context("final lookup"));
        final_ids[k] = value_id(v);
        if (final_ids[k] == 0) return void(out = Status::Corrupt("final lookup of " + keys_[k] + " read garbage"));
      }
      auto n = t->count(ctx, c.txn(0));
      if (!n.ok()) return void(out = n.status().with_context("count"));
      counted = *n;
      out = Status::OK();
    });
    REMORA_RETURN_IF_ERROR(c.run(2'000'000'000));
    REMORA_RETURN_IF_ERROR(out);
    if (!read_error_.empty()) return Status::Corrupt(read_error_);
    uint64_t present = 0;
    for (size_t k = 0; k < keys_.size(); ++k) {
      present += final_ids[k] != 0;
      REMORA_RETURN_IF_ERROR(check_key(k, final_ids[k]));
    }
    if (present != counted)
      return Status::Corrupt(fmt::format("count() says {} entries, lookups found {}", counted, present));
    return Status::OK();
  }

  std::vector<GAddr> fixed_objects() const override { return buckets_; }

 private:
  std::span<const std::byte> key(size_t k) const { return std::as_bytes(std::span(keys_[k])); }

  Result<HashTable> open(TxnEngine& txn, Context& ctx) {
    Status last;
    for (int i = 0; i < 50; ++i) {  // catalog RPCs may time out under faults
      auto t = HashTable::open(ctx, txn, "kv");
      if (t.ok()) return t;
      last = t.status();
    }
    return last;
  }

  Status client(SimCluster& c, NodeId n, Context& ctx, SimRng& rng, uint64_t ops, uint64_t id_base) {
    TxnEngine& txn = c.txn(n);
    auto t = open(txn, ctx);
    if (!t.ok()) return t.status().with_context("HashTable::open");
    for (uint64_t i = 1; i <= ops; ++i) {
      const size_t k = rng.below(keys_.size());
      const uint64_t id = id_base | i;
      const uint64_t start = c.sim().now_ns();
      const uint64_t what = rng.below(10);
      if (what < 2) {  // lock-free lookup
        std::vector<std::byte> v;
        Status st = t->lookup(ctx, txn, key(k), &v);
        if (st.ok() && value_id(v) == 0) note_garbage(k, "lookup");
        continue;
      }
      if (what < 4) {  // get in a transaction
        std::vector<std::byte> v;
        Status st = txn.transact(ctx, [&](Tx& tx) { return t->get(tx, key(k), &v); });
        count(st, {Code::kNotFound});
        if (st.ok() && value_id(v) == 0) note_garbage(k, "get");
        continue;
      }
      const std::vector<std::byte> v = make_value(id, rng.range(kValueHeader, 120));
      Status st;
      uint64_t written = id;
      if (what < 6) {
        st = txn.transact(ctx, [&](Tx& tx) { return t->insert(tx, key(k), v); });
      } else if (what < 8) {
        st = txn.transact(ctx, [&](Tx& tx) { return t->put(tx, key(k), v); });
      } else {
        written = 0;
        st = txn.transact(ctx, [&](Tx& tx) { return t->erase(tx, key(k)); });
      }
      count(st, {Code::kNotFound, Code::kAlreadyExists, Code::kOutOfMemory});
      const bool refused = st.code() == Code::kNotFound || st.code() == Code::kAlreadyExists ||
                           st.code() == Code::kOutOfMemory || st.code() == Code::kConflict;
      if (!refused) log_[k].push_back(WriteOp{written, start, c.sim().now_ns(), st.ok()});
    }
    return Status::OK();
  }

  void note_garbage(size_t k, const char* how) {
    if (read_error_.empty()) read_error_ = fmt::format("a {} of {} read a malformed value", how, keys_[k]);
  }

  Status check_key(size_t k, uint64_t final_id) const {
    uint64_t last_start = 0;  // of the committed writes
    for (const WriteOp& w : log_[k])
      if (w.committed) last_start = std::max(last_start, w.start);
    bool found = final_id == 0 && last_start == 0;  // never written, or erased
    for (const WriteOp& w : log_[k])
      if (w.value == final_id && (w.end >= last_start || (w.committed && w.start == last_start))) found = true;
    if (found) return Status::OK();
    return Status::Corrupt(fmt::format(
        "key {} ends as {:#x}, which no write of it could have left last ({} writes logged, the last "
        "committed one started at {} ns)",
        keys_[k], final_id, log_[k].size(), last_start));
  }

  std::vector<std::string> keys_;
  std::vector<std::vector<WriteOp>> log_;  // by key
  std::vector<GAddr> buckets_;
  std::string read_error_;
};

}  // namespace

std::unique_ptr<SimWorkload> make_hash() { return std::make_unique<Hash>(); }

}  // namespace remora::sim
