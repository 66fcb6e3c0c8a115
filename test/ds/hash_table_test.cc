// HashTable on three in-process nodes (loopback fabric, f = 1): create and
// open, transactional operations on entries of many sizes, overflow chains
// growing and shrinking, the bulk loader, lookup cost and atomicity, bad
// input.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "ds/bucket.h"
#include "remora/ds/hash_table.h"
#include "remora/txn/object.h"
#include "support/status_matchers.h"
#include "txn/txn_loopback.h"

namespace remora::testing {
namespace {

using Bytes = std::vector<std::byte>;

Bytes bytes_of(const std::string& s) {
  const auto b = std::as_bytes(std::span(s));
  return {b.begin(), b.end()};
}
Bytes filled(size_t n, char c) { return bytes_of(std::string(n, c)); }
std::string key_of(int i, size_t len = 8) {
  std::string k = fmt::format("key-{}-", i);
  k.resize(std::max(len, k.size()), 'x');
  return k;
}

class HashTableTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(build_loopback({}, &c_)); }
  std::vector<NodeId> nodes() const { return {0, 1, 2}; }

  void create_all(const HashTableOptions& o, const std::string& name = "kv") {
    for (NodeId n : nodes()) ASSERT_OK(HashTable::create(c_->store(n), name, nodes(), o));
  }
  Result<HashTable> open(NodeId n, const std::string& name = "kv") {
    Result<HashTable> out = Status::Internal("not run");
    Status st = c_->on(n, [&](Context& ctx) {
      out = HashTable::open(ctx, c_->txn(n), name);
      return Status::OK();
    });
    if (!st.ok()) return st;
    return out;
  }
  void open_all() {
    t_.clear();
    for (NodeId n : nodes()) {
      auto t = open(n);
      ASSERT_OK(t);
      t_.push_back(*t);
    }
  }
  template <typename F>
  Status tx(NodeId n, F&& fn) {
    return c_->on(n, [&](Context& ctx) { return c_->txn(n).transact(ctx, [&](Tx& t) { return fn(t); }); });
  }
  Status put(NodeId n, const std::string& k, const Bytes& v) {
    return tx(n, [&](Tx& t) { return t_[n].put(t, bytes_of(k), v); });
  }
  Status get(NodeId n, const std::string& k, Bytes* v) {
    return tx(n, [&](Tx& t) { return t_[n].get(t, bytes_of(k), v); });
  }
  Status erase(NodeId n, const std::string& k) {
    return tx(n, [&](Tx& t) { return t_[n].erase(t, bytes_of(k)); });
  }
  Result<uint64_t> count(NodeId n) {
    Result<uint64_t> out = Status::Internal("not run");
    Status st = c_->on(n, [&](Context& ctx) {
      out = t_[n].count(ctx, c_->txn(n));
      return out.status();
    });
    if (!st.ok()) return st;
    return out;
  }
  Status lookup(NodeId n, const std::string& k, Bytes* v, HashOpInfo* info = nullptr) {
    return c_->on(n, [&](Context& ctx) { return t_[n].lookup(ctx, c_->txn(n), bytes_of(k), v, info); });
  }
  // Expects every node's lookup and get to return `want` for k.
  void expect_value(const std::string& k, const Bytes& want) {
    for (NodeId n : nodes()) {
      Bytes got;
      ASSERT_OK(lookup(n, k, &got));
      EXPECT_EQ(got, want) << k << " lookup on node " << n;
      got.clear();
      ASSERT_OK(get(n, k, &got));
      EXPECT_EQ(got, want) << k << " get on node " << n;
    }
  }
  // The local memory of the first bucket of k (on its home node).
  const std::byte* first_bucket(const std::string& k) {
    const HashTable& t = t_[0];
    const GAddr a = t.bucket_addr(hash_key(bytes_of(k)) % t.buckets());
    return c_->store(region_owner(a.region())).local_object(a, obj::footprint(t.bucket_size()));
  }
  const std::byte* object_at(GAddr a, uint32_t size) {
    return c_->store(region_owner(a.region())).local_object(a, obj::footprint(size));
  }

  std::unique_ptr<TxnLoopback> c_;
  std::vector<HashTable> t_;
};

TEST_F(HashTableTest, CreateThenOpenOnEveryNode) {
  ASSERT_NO_FATAL_FAILURE(create_all({16, 4, 64}));
  ASSERT_NO_FATAL_FAILURE(open_all());
  for (const HashTable& t : t_) {
    EXPECT_EQ(t.buckets(), 48u);
    EXPECT_EQ(t.bucket_size(), 16u + 4 * 80);
    EXPECT_EQ(t.name(), "kv");
    EXPECT_EQ(t.options().slots, 4u);
  }
  // Bucket b: node b % 3, row b / 3.
  EXPECT_EQ(region_owner(t_[0].bucket_addr(4).region()), 1);
  EXPECT_EQ(t_[0].bucket_addr(4), t_[2].bucket_addr(4));
  const std::string k = "some key";
  EXPECT_EQ(t_[1].home(bytes_of(k)), region_owner(t_[1].bucket_addr(hash_key(bytes_of(k)) % 48).region()));
}

TEST_F(HashTableTest, CreateRefusesBadOptionsDuplicatesAndStrangers) {
  EXPECT_EQ(HashTable::create(c_->store(0), "kv", nodes(), {0, 4, 64}).code(), Code::kInvalidArgument);
  EXPECT_EQ(HashTable::create(c_->store(0), "kv", nodes(), {4, 4, 7}).code(), Code::kInvalidArgument);
  EXPECT_EQ(HashTable::create(c_->store(0), "kv", {1, 2}, {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(HashTable::create(c_->store(0), "", nodes(), {}).code(), Code::kInvalidArgument);
  ASSERT_OK(HashTable::create(c_->store(0), "kv", nodes(), {4, 4, 64}));
  EXPECT_EQ(HashTable::create(c_->store(0), "kv", nodes(), {4, 4, 64}).code(), Code::kInvalidArgument);
}

TEST_F(HashTableTest, OpenFindsMissingAndMismatchedShares) {
  EXPECT_EQ(open(0).status().code(), Code::kNotFound);  // nothing anywhere
  ASSERT_OK(HashTable::create(c_->store(0), "kv", nodes(), {8, 4, 64}));
  ASSERT_OK(HashTable::create(c_->store(2), "kv", nodes(), {8, 4, 64}));
  EXPECT_EQ(open(0).status().code(), Code::kNotFound);  // node 1 has none
  ASSERT_OK(HashTable::create(c_->store(1), "kv", nodes(), {8, 2, 64}));
  EXPECT_EQ(open(0).status().code(), Code::kCorrupt);
  EXPECT_EQ(open(1).status().code(), Code::kCorrupt);
  // Same options, other node order.
  for (NodeId n : nodes()) ASSERT_OK(HashTable::create(c_->store(n), "kv2", n == 2 ? std::vector<NodeId>{0, 2, 1} : nodes(), {}));
  EXPECT_EQ(open(0, "kv2").status().code(), Code::kCorrupt);
}

TEST_F(HashTableTest, PutGetLookupEntriesOfManySizes) {
  ASSERT_NO_FATAL_FAILURE(create_all({16, 4, 64}));
  ASSERT_NO_FATAL_FAILURE(open_all());
  const std::vector<size_t> key_lens = {1, 7, 8, 30, 56, 57, 200, 1000};
  const std::vector<size_t> value_lens = {0, 1, 8, 40, 56, 63, 100, 4000};
  int i = 0;
  for (size_t kl : key_lens)
    for (size_t vl : value_lens) {
      const std::string k = kl < 8 ? std::string(kl, static_cast<char>('A' + i % 26)) : key_of(i, kl);
      ASSERT_OK(put(static_cast<NodeId>(i % 3), k, filled(vl, static_cast<char>('a' + i % 26))));
      ++i;
    }
  i = 0;
  for (size_t kl : key_lens)
    for (size_t vl : value_lens) {
      const std::string k = kl < 8 ? std::string(kl, static_cast<char>('A' + i % 26)) : key_of(i, kl);
      ASSERT_NO_FATAL_FAILURE(expect_value(k, filled(vl, static_cast<char>('a' + i % 26))));
      ++i;
    }
}

TEST_F(HashTableTest, UpdatesMoveEntriesBetweenInlineAndOwnObjects) {
  ASSERT_NO_FATAL_FAILURE(create_all({4, 4, 32}));
  ASSERT_NO_FATAL_FAILURE(open_all());
  const std::string k = "12345678";
  // inline -> out-of-line -> same size -> other size -> inline -> empty value
  ASSERT_OK(put(0, k, filled(4, 'x')));
  NodeId n = 0;
  for (size_t len : {8u, 100u, 100u, 3000u, 24u, 0u}) {
    const Bytes v = filled(len, static_cast<char>('a' + len % 26));
    n = static_cast<NodeId>((n + 1) % 3);
    ASSERT_OK(tx(n, [&](Tx& t) { return t_[n].update(t, bytes_of(k), v); }));
    ASSERT_NO_FATAL_FAILURE(expect_value(k, v));
  }
}

TEST_F(HashTableTest, InsertUpdateEraseReportPresenceAndAbsence) {
  ASSERT_NO_FATAL_FAILURE(create_all({4, 2, 16}));
  ASSERT_NO_FATAL_FAILURE(open_all());
  const Bytes v = bytes_of("value"), big = filled(500, 'z');
  const auto k = bytes_of("present"), missing = bytes_of("missing");
  ASSERT_OK(tx(0, [&](Tx& t) { return t_[0].insert(t, k, v); }));
  EXPECT_EQ(tx(1, [&](Tx& t) { return t_[1].insert(t, k, big); }).code(), Code::kAlreadyExists);
  EXPECT_EQ(tx(1, [&](Tx& t) { return t_[1].update(t, missing, v); }).code(), Code::kNotFound);
  EXPECT_EQ(tx(2, [&](Tx& t) { return t_[2].erase(t, missing); }).code(), Code::kNotFound);
  Bytes got;
  EXPECT_EQ(tx(2, [&](Tx& t) { return t_[2].get(t, missing, &got); }).code(), Code::kNotFound);
  EXPECT_EQ(c_->on(0, [&](Context& ctx) { return t_[0].lookup(ctx, c_->txn(0), missing, &got); }).code(),
            Code::kNotFound);
  ASSERT_OK(tx(2, [&](Tx& t) { return t_[2].update(t, k, big); }));
  ASSERT_NO_FATAL_FAILURE(expect_value("present", big));
  ASSERT_OK(tx(0, [&](Tx& t) { return t_[0].erase(t, k); }));
  EXPECT_EQ(lookup(1, "present", &got).code(), Code::kNotFound);
  // Erase and insert again in one transaction.
  ASSERT_OK(tx(0, [&](Tx& t) { return t_[0].insert(t, k, v); }));
  ASSERT_OK(tx(1, [&](Tx& t) -> Status {
    REMORA_RETURN_IF_ERROR(t_[1].erase(t, k));
    return t_[1].insert(t, k, big);
  }));
  ASSERT_NO_FATAL_FAILURE(expect_value("present", big));
}

TEST_F(HashTableTest, OverflowChainsGrowThenShrinkAndFreeTheirBuckets) {
  ASSERT_NO_FATAL_FAILURE(create_all({1, 2, 16}));  // 3 buckets in all, 2 slots each
  ASSERT_NO_FATAL_FAILURE(open_all());
  constexpr int kKeys = 240;
  auto value = [](int i) { return i % 5 == 0 ? filled(40 + i % 7, 'o') : bytes_of(fmt::format("v{}", i)); };
  for (int i = 0; i < kKeys; ++i) ASSERT_OK(put(static_cast<NodeId>(i % 3), key_of(i), value(i)));
  // Walk every chain in local memory: all overflow buckets, all entries.
  const ds_detail::Layout layout(t_[0]);
  std::vector<GAddr> overflow;
  uint32_t used = 0;
  for (uint64_t b = 0; b < 3; ++b) {
    GAddr a = t_[0].bucket_addr(b);
    for (;;) {
      const uint32_t size = overflow.empty() || a != overflow.back() ? t_[0].bucket_size() : layout.overflow_size();
      const std::byte* o = object_at(a, size);
      ASSERT_NE(o, nullptr);
      ASSERT_EQ(obj::check({o, obj::footprint(size)}), obj::Check::kOk);
      used += layout.head(o + obj::kHeaderSize).used;
      const uint64_t next = layout.head(o + obj::kHeaderSize).overflow;
      if (next == 0) break;
      a = GAddr::from_raw(next);
      overflow.push_back(a);
    }
  }
  EXPECT_EQ(used, static_cast<uint32_t>(kKeys));
  EXPECT_GE(overflow.size(), static_cast<size_t>(kKeys / 2 - 3));
  for (NodeId n : nodes()) {  // count() walks the same chains, from any node
    auto c = count(n);
    ASSERT_OK(c);
    EXPECT_EQ(*c, static_cast<uint64_t>(kKeys)) << "count on node " << n;
  }
  for (int i = 0; i < kKeys; i += 7) ASSERT_NO_FATAL_FAILURE(expect_value(key_of(i), value(i)));
  HashOpInfo info;
  Bytes got;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_OK(lookup(0, key_of(i), &got, &info));
    EXPECT_EQ(got, value(i));
    EXPECT_GE(info.buckets, 1u);
  }
  for (int i = 0; i < kKeys; ++i) ASSERT_OK(erase(static_cast<NodeId>((i + 1) % 3), key_of(i)));
  for (int i = 0; i < kKeys; i += 3) EXPECT_EQ(lookup(2, key_of(i), &got).code(), Code::kNotFound);
  for (uint64_t b = 0; b < 3; ++b) {
    const std::byte* o = object_at(t_[0].bucket_addr(b), t_[0].bucket_size());
    EXPECT_EQ(layout.head(o + obj::kHeaderSize).overflow, 0u) << "bucket " << b;
    EXPECT_EQ(layout.head(o + obj::kHeaderSize).used, 0u) << "bucket " << b;
  }
  for (GAddr a : overflow) EXPECT_FALSE(obj::allocated(obj::load_word(object_at(a, layout.overflow_size()))));
  auto empty = count(1);
  ASSERT_OK(empty);
  EXPECT_EQ(*empty, 0u);
  // The freed slots serve the next inserts.
  for (int i = 0; i < kKeys; ++i) ASSERT_OK(put(static_cast<NodeId>(i % 3), key_of(i), value(i + 1)));
  for (int i = 0; i < kKeys; i += 11) ASSERT_NO_FATAL_FAILURE(expect_value(key_of(i), value(i + 1)));
  ASSERT_OK(c_->flush());
}

TEST_F(HashTableTest, LoaderStoresHomeKeysAndRefusesTheRest) {
  ASSERT_NO_FATAL_FAILURE(create_all({2, 2, 32}));
  std::vector<std::string> rest;
  std::vector<int> stored(3);
  constexpr int kKeys = 40;
  for (int i = 0; i < kKeys; ++i) {
    const std::string k = key_of(i);
    bool placed = false;
    for (NodeId n : nodes()) {
      auto l = HashTableLoader::open(c_->store(n), "kv");
      ASSERT_OK(l);
      auto r = l->add(bytes_of(k), bytes_of(fmt::format("loaded{}", i)));
      ASSERT_OK(r);
      if (*r) {
        EXPECT_TRUE(l->is_home(bytes_of(k)));
        EXPECT_FALSE(placed);
        placed = true;
        ++stored[n];
        EXPECT_EQ(l->add(bytes_of(k), bytes_of("again")).status().code(), Code::kAlreadyExists);
      }
    }
    if (!placed) rest.push_back(k);
  }
  // 6 buckets of 2 slots: 12 stored, the rest found their bucket full.
  EXPECT_EQ(stored[0] + stored[1] + stored[2], 12);
  EXPECT_EQ(rest.size(), static_cast<size_t>(kKeys - 12));
  auto l = HashTableLoader::open(c_->store(0), "kv");
  ASSERT_OK(l);
  EXPECT_EQ(l->add(bytes_of("k"), filled(40, 'x')).status().code(), Code::kInvalidArgument);  // not inline
  EXPECT_EQ(l->add({}, bytes_of("v")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(HashTableLoader::open(c_->store(0), "nope").status().code(), Code::kNotFound);
  ASSERT_NO_FATAL_FAILURE(open_all());
  for (const std::string& k : rest) ASSERT_OK(tx(1, [&](Tx& t) { return t_[1].insert(t, bytes_of(k), bytes_of(k)); }));
  for (int i = 0; i < kKeys; ++i) {
    const std::string k = key_of(i);
    const bool late = std::find(rest.begin(), rest.end(), k) != rest.end();
    ASSERT_NO_FATAL_FAILURE(expect_value(k, late ? bytes_of(k) : bytes_of(fmt::format("loaded{}", i))));
  }
}

TEST_F(HashTableTest, InlineLookupIsOneReadAndOutOfLineTwo) {
  ASSERT_NO_FATAL_FAILURE(create_all({64, 4, 48}));
  ASSERT_NO_FATAL_FAILURE(open_all());
  ASSERT_OK(put(0, "inline-k", filled(40, 'i')));
  ASSERT_OK(put(0, "big-key!", filled(41, 'b')));
  for (NodeId n : nodes()) {
    HashOpInfo info;
    Bytes got;
    ASSERT_OK(lookup(n, "inline-k", &got, &info));
    EXPECT_EQ(info.reads, 1u);
    EXPECT_EQ(info.buckets, 1u);
    EXPECT_FALSE(info.out_of_line);
    ASSERT_OK(lookup(n, "big-key!", &got, &info));
    EXPECT_EQ(got, filled(41, 'b'));
    EXPECT_EQ(info.reads, 2u);
    EXPECT_TRUE(info.out_of_line);
    ASSERT_EQ(lookup(n, "absent", &got, &info).code(), Code::kNotFound);
    EXPECT_EQ(info.reads, 1u);
  }
}

TEST_F(HashTableTest, LookupRacingUpdatesSeesOldOrNewNeverAMix) {
  ASSERT_NO_FATAL_FAILURE(create_all({4, 2, 32}));
  ASSERT_NO_FATAL_FAILURE(open_all());
  const std::string small = "small-k", large = "large-k";
  // A value whose bytes name its length: a length from one version and
  // bytes from another do not match.
  auto signed_value = [](size_t n) { return filled(n, static_cast<char>('a' + n % 26)); };
  ASSERT_OK(put(1, small, signed_value(16)));
  ASSERT_OK(put(1, large, signed_value(300)));
  constexpr int kRounds = 200;
  Status writer = Status::OK(), reader = Status::OK();
  int checked = 0;
  c_->worker(1).spawn([&](Context& ctx) {
    for (int r = 0; r < kRounds && writer.ok(); ++r) {
      // Lengths that stay in one slab slot (in-place rewrites) and that move.
      const size_t n_small = 8 + r % 17, n_large = r % 3 ? 100 + r % 9 : 150 + r;
      writer = c_->txn(1).transact(ctx, [&](Tx& t) -> Status {
        REMORA_RETURN_IF_ERROR(t_[1].put(t, bytes_of(small), signed_value(n_small)));
        return t_[1].put(t, bytes_of(large), signed_value(n_large));
      });
    }
  });
  for (NodeId n : {NodeId{0}, NodeId{2}})
    c_->worker(n).spawn([&, n](Context& ctx) {
      for (int r = 0; r < kRounds && reader.ok(); ++r)
        for (const std::string& k : {small, large}) {
          Bytes got;
          reader = t_[n].lookup(ctx, c_->txn(n), bytes_of(k), &got);
          if (!reader.ok()) return;
          const bool uniform = std::all_of(got.begin(), got.end(), [&](std::byte b) { return b == got[0]; });
          if (got.empty() || !uniform || got != signed_value(got.size())) reader = Status::Corrupt(fmt::format("{}: mixed value of {} B", k, got.size()));
          ++checked;
        }
    });
  ASSERT_OK(c_->run());
  ASSERT_OK(writer);
  ASSERT_OK(reader);
  EXPECT_EQ(checked, 2 * 2 * kRounds);
}

TEST_F(HashTableTest, BadInputIsInvalidArgument) {
  ASSERT_NO_FATAL_FAILURE(create_all({4, 4, 64}));
  ASSERT_NO_FATAL_FAILURE(open_all());
  Bytes got;
  const Bytes huge_key(ds_detail::kMaxKey + 1), huge_value(ds_detail::kMaxValue + 1);
  EXPECT_EQ(c_->on(0, [&](Context& ctx) { return t_[0].lookup(ctx, c_->txn(0), {}, &got); }).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(tx(0, [&](Tx& t) { return t_[0].get(t, {}, &got); }).code(), Code::kInvalidArgument);
  EXPECT_EQ(tx(0, [&](Tx& t) { return t_[0].put(t, {}, bytes_of("v")); }).code(), Code::kInvalidArgument);
  EXPECT_EQ(tx(0, [&](Tx& t) { return t_[0].insert(t, huge_key, bytes_of("v")); }).code(), Code::kInvalidArgument);
  EXPECT_EQ(tx(0, [&](Tx& t) { return t_[0].update(t, bytes_of("k"), huge_value); }).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(tx(0, [&](Tx& t) { return t_[0].erase(t, {}); }).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace remora::testing
