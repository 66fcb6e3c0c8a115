// Bucket layout: sizes, inline/out-of-line split, search, writers and the
// option and entry checks; hash_key is fixed and spreads keys.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "ds/bucket.h"
#include "ds/meta.h"
#include "support/status_matchers.h"

namespace remora::ds_detail {
namespace {

std::span<const std::byte> b(const std::string& s) { return std::as_bytes(std::span(s)); }

TEST(BucketLayout, SizesFollowSlotsAndInlineBytes) {
  EXPECT_EQ(Layout({1, 4, 64}).bucket_size(), 16u + 4 * (16 + 64));
  EXPECT_EQ(Layout({1, 1, 0}).slot_size(), 16u + 8);  // room for an object address
  EXPECT_EQ(Layout({1, 64, 8}).bucket_size(), 16u + 64 * 24);
}

TEST(BucketLayout, InlineLimitIsKeyPlusValue) {
  const Layout l({1, 2, 16});
  EXPECT_TRUE(l.fits_inline(8, 8));
  EXPECT_FALSE(l.fits_inline(8, 9));
  EXPECT_FALSE(Layout({1, 2, 0}).fits_inline(1, 0));
}

TEST(BucketLayout, PutFindClearKeepUsedCount) {
  const Layout l({1, 3, 16});
  std::vector<std::byte> bucket(l.bucket_size());
  std::byte* p = bucket.data();
  const std::string k1 = "alpha", v1 = "one", k2 = "beta";
  EXPECT_EQ(l.find(p, 7, b(k1)), -1);
  EXPECT_EQ(l.free_slot(p), 0);
  l.put_inline(p, 0, 7, b(k1), b(v1));
  l.put_object(p, 1, 9, static_cast<uint32_t>(k2.size()), 100, GAddr(5, 64));
  EXPECT_EQ(l.head(p).used, 2u);
  EXPECT_EQ(l.free_slot(p), 2);
  EXPECT_EQ(l.find(p, 7, b(k1)), 0);
  EXPECT_EQ(l.find(p, 8, b(k1)), -1);                 // other hash
  EXPECT_EQ(l.find(p, 7, b(std::string("alphA"))), -1);  // same hash and length, other key
  const auto v = l.inline_value(p, 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v.data()), v.size()), v1);
  // An out-of-line slot is a candidate by hash and length only.
  EXPECT_EQ(l.find(p, 9, b(std::string("BETA"))), 1);
  EXPECT_FALSE(l.is_inline(l.slot(p, 1)));
  EXPECT_EQ(l.object_of(p, 1), GAddr(5, 64));
  EXPECT_EQ(l.find(p, 9, b(k2), 2), -1);
  l.clear(p, 0);
  EXPECT_EQ(l.head(p).used, 1u);
  EXPECT_EQ(l.free_slot(p), 0);
  EXPECT_EQ(l.find(p, 7, b(k1)), -1);
  l.replace_inline(p, 1, 9, b(k2), b(v1));
  EXPECT_EQ(l.head(p).used, 1u);
  EXPECT_TRUE(l.is_inline(l.slot(p, 1)));
}

TEST(BucketLayout, BucketsAndEntryObjectsAreTaggedApart) {
  const Layout l({1, 2, 16}, 64 << 10);
  std::vector<std::byte> bucket(l.overflow_size());
  EXPECT_FALSE(l.is_bucket(bucket.data()));
  l.init_bucket(bucket.data());
  EXPECT_TRUE(l.is_bucket(bucket.data()));
  EXPECT_EQ(l.free_slot(bucket.data()), 0);
  EXPECT_FALSE(Layout::is_entry(bucket));
  const std::string k = "a key", v(40, 'v');
  std::vector<std::byte> obj(l.object_size(k.size(), v.size()));
  EXPECT_EQ(obj.size() + 16, 128u);  // fills a 128 B slab slot
  Layout::write_object(obj, b(k), b(v));
  EXPECT_TRUE(Layout::is_entry(obj));
  EXPECT_FALSE(l.is_bucket(obj.data()));
  EXPECT_TRUE(Layout::object_holds(obj, b(k)));
  EXPECT_FALSE(Layout::object_holds(obj, b(std::string("a kex"))));
  const auto got = Layout::object_value(obj);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(got.data()), got.size()), v);
  EXPECT_FALSE(Layout::object_holds(bucket, b(k)));
}

TEST(BucketLayout, SlotCapacityFillsSlabSlotsAndBlockRuns) {
  EXPECT_EQ(slot_capacity(1, 64 << 10), 16u);         // 32 B slot
  EXPECT_EQ(slot_capacity(80, 64 << 10), 112u);       // 96 B -> 128 B slot
  EXPECT_EQ(slot_capacity(112, 64 << 10), 112u);
  EXPECT_EQ(slot_capacity(40000, 64 << 10), (64u << 10) - 16);  // one whole block
  EXPECT_EQ(slot_capacity(70000, 64 << 10), (128u << 10) - 16);
}

TEST(BucketLayout, FullBucketHasNoFreeSlot) {
  const Layout l({1, 2, 8});
  std::vector<std::byte> bucket(l.bucket_size());
  const std::string k = "k";
  l.put_inline(bucket.data(), 0, 1, b(k), {});
  l.put_inline(bucket.data(), 1, 2, b(k), {});
  EXPECT_EQ(l.free_slot(bucket.data()), -1);
}

TEST(BucketOptions, RangesAreChecked) {
  EXPECT_OK(check_options({1, 1, 0}));
  EXPECT_OK(check_options({1024, 64, 64 << 10}));
  EXPECT_EQ(check_options({0, 4, 64}).code(), Code::kInvalidArgument);
  EXPECT_EQ(check_options({1, 0, 64}).code(), Code::kInvalidArgument);
  EXPECT_EQ(check_options({1, 65, 64}).code(), Code::kInvalidArgument);
  EXPECT_EQ(check_options({1, 4, 12}).code(), Code::kInvalidArgument);
  EXPECT_EQ(check_options({1, 4, (64 << 10) + 8}).code(), Code::kInvalidArgument);
}

TEST(BucketEntries, EmptyOrOversizedKeysAndValuesAreRefused) {
  const std::vector<std::byte> big_key(kMaxKey + 1), max_key(kMaxKey);
  EXPECT_EQ(check_entry({}, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(check_entry(big_key, 0).code(), Code::kInvalidArgument);
  EXPECT_OK(check_entry(max_key, kMaxValue));
  EXPECT_EQ(check_entry(max_key, kMaxValue + 1).code(), Code::kInvalidArgument);
}

TEST(HashKey, FixedValuesAndSpread) {
  // Part of the on-memory format: these must never change.
  const std::string a = "a", k8 = "01234567", k13 = "hello, world!";
  const uint64_t ha = hash_key(b(a)), h8 = hash_key(b(k8)), h13 = hash_key(b(k13));
  EXPECT_EQ(ha, 0x9dbd0389bc5482e3ull);
  EXPECT_EQ(h8, 0xb0c5d9820e36ca3cull);
  EXPECT_EQ(h13, 0xce8cfae11a29f70eull);
  EXPECT_NE(ha, h8);
  EXPECT_NE(h8, h13);
  EXPECT_NE(hash_key(b(std::string("ab"))), hash_key(b(std::string("ba"))));
  EXPECT_NE(hash_key(b(std::string(1, '\0'))), hash_key(b(std::string(2, '\0'))));  // length counts
  std::vector<uint32_t> per_bucket(64);
  for (uint64_t i = 0; i < 64 * 100; ++i) ++per_bucket[hash_key(std::as_bytes(std::span(&i, 1))) % 64];
  for (uint32_t n : per_bucket) {
    EXPECT_GT(n, 50u);
    EXPECT_LT(n, 150u);
  }
}

TEST(Meta, RoundTripsAndRejectsGarbage) {
  const Meta m{{16, 4, 32}, {0, 1, 2}, 1};
  std::vector<std::byte> row(meta_size(3));
  encode_meta(m, row);
  auto d = decode_meta(row);
  ASSERT_OK(d);
  EXPECT_TRUE(same_table(m, *d));
  EXPECT_EQ(d->position, 1u);
  row[0] = std::byte{0};
  EXPECT_EQ(decode_meta(row).status().code(), Code::kCorrupt);
  EXPECT_EQ(decode_meta(std::span(row).first(8)).status().code(), Code::kCorrupt);
}

}  // namespace
}  // namespace remora::ds_detail
