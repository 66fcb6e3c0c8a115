// The transaction layer's parts: object layout and checksums, message
// framing, the region map and its config key, the block allocator.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "remora/cluster/config.h"
#include "remora/cluster/region_map.h"
#include "remora/txn/object.h"
#include "remora/txn/txid.h"
#include "support/status_matchers.h"
#include "txn/block_allocator.h"
#include "txn/wire.h"

namespace remora::testing {
namespace {

using txn_detail::EntryHeader;
using txn_detail::MsgWriter;
using txn_detail::parse_msg;

std::vector<std::byte> object(uint64_t word, std::string_view text) {
  std::vector<std::byte> o(obj::footprint(static_cast<uint32_t>(text.size())));
  obj::write_body(o.data(), word, std::as_bytes(std::span(text)));
  return o;
}

TEST(ObjectTest, ConsistentCopyChecksOkAndEveryKindOfDamageIsCaught) {
  auto o = object(obj::kAllocBit | 5, "hello, remora!");
  EXPECT_EQ(obj::check(o), obj::Check::kOk);
  auto payload = o;
  payload[obj::kHeaderSize + 3] ^= std::byte{0x20};
  EXPECT_EQ(obj::check(payload), obj::Check::kTorn);
  auto version = o;  // a newer word with the old payload: torn, not ok
  obj::store_word(version.data(), obj::kAllocBit | 6);
  EXPECT_EQ(obj::check(version), obj::Check::kTorn);
  auto locked = o;
  obj::store_word(locked.data(), obj::kLockBit | obj::kAllocBit | 5);
  EXPECT_EQ(obj::check(locked), obj::Check::kLocked);
  auto freed = o;
  obj::store_word(freed.data(), 6);
  EXPECT_EQ(obj::check(freed), obj::Check::kFree);
  EXPECT_EQ(obj::check(std::span(o).first(obj::kHeaderSize + 4)), obj::Check::kTorn) << "size beyond the copy";
}

TEST(ObjectTest, InstallPublishesANewVersionAndUnlocks) {
  auto o = object(obj::kAllocBit | 1, "aaaa");
  ASSERT_TRUE(obj::cas_word(o.data(), obj::kAllocBit | 1, obj::kLockBit | obj::kAllocBit | 1));
  EXPECT_FALSE(obj::cas_word(o.data(), obj::kAllocBit | 1, obj::kLockBit | obj::kAllocBit | 1));
  const uint64_t next = obj::next_word(obj::kAllocBit | 1, true);
  EXPECT_EQ(next, obj::kAllocBit | 2);
  const std::string_view text = "bbbb";
  obj::install(o.data(), next, std::as_bytes(std::span(text)));
  EXPECT_EQ(obj::check(o), obj::Check::kOk);
  EXPECT_EQ(obj::load_word(o.data()), obj::kAllocBit | 2);
  EXPECT_EQ(std::memcmp(o.data() + obj::kHeaderSize, "bbbb", 4), 0);
  EXPECT_EQ(obj::next_word(obj::kAllocBit | 2, false), 3u) << "a free clears the allocated bit";
}

TEST(TxIdTest, PrintsAndParsesTheHistoryFormat) {
  const TxId id{1, 2, 3, 12345678901ull};
  EXPECT_EQ(id.to_string(), "1.2.3.12345678901");
  auto back = TxId::parse(id.to_string());
  ASSERT_OK(back);
  EXPECT_EQ(*back, id);
  EXPECT_FALSE(TxId::parse("1.2.3").ok());
  EXPECT_FALSE(TxId::parse("1.2.x.4").ok());
}

TEST(WireTest, MessagesRoundTripAndDamageIsCorrupt) {
  MsgWriter w(TxId{1, 0, 0, 9}, 1);
  ASSERT_OK(w.add_trunc(TxId{1, 0, 0, 7}));
  const std::string_view p = "payload";
  ASSERT_OK(w.add_entry(EntryHeader{GAddr(region_id(1, 1), 64).raw(), 5, 6, 0, 0}, std::as_bytes(std::span(p))));
  ASSERT_OK(w.add_entry(EntryHeader{GAddr(region_id(2, 1), 0).raw(), 1, 2, 0, 0}, {}));
  auto m = parse_msg(w.bytes());
  ASSERT_OK(m);
  EXPECT_EQ(m->header.tx.seq, 9u);
  ASSERT_EQ(m->truncs.size(), 1u);
  EXPECT_EQ(m->truncs[0].seq, 7u);
  ASSERT_EQ(m->entries.size(), 2u);
  EXPECT_EQ(m->entries[0].h.size, p.size());
  EXPECT_EQ(std::memcmp(m->entries[0].payload.data(), p.data(), p.size()), 0);
  EXPECT_EQ(m->entries[1].h.expected, 1u);
  for (size_t cut : {size_t{0}, size_t{10}, size_t{30}, w.size() - 1})
    EXPECT_EQ(parse_msg(w.bytes().first(cut)).status().code(), Code::kCorrupt) << "cut at " << cut;
  std::vector<std::byte> longer(w.bytes().begin(), w.bytes().end());
  longer.resize(longer.size() + 8);
  EXPECT_EQ(parse_msg(longer).status().code(), Code::kCorrupt);
}

Config nodes_config(uint32_t n, uint32_t backups, uint32_t regions = 1) {
  Config c;
  c.backups = backups;
  c.regions_per_node = regions;
  for (NodeId i = 0; i < n; ++i) c.nodes.push_back({static_cast<NodeId>(i * 2), "127.0.0.1", 0});
  return c;
}

TEST(RegionMapTest, BackupsAreTheNextNodesAndReplicasHaveTheirOwnIds) {
  const RegionMap m(nodes_config(3, 2, 2));  // node ids 0, 2, 4
  const RegionId r = region_id(4, 2);         // node 4's second data region
  EXPECT_TRUE(m.is_data_region(r));
  EXPECT_FALSE(m.is_data_region(system_region_id(4)));
  EXPECT_FALSE(m.is_data_region(region_id(4, 3)));
  EXPECT_FALSE(m.is_data_region(region_id(1, 1)));
  EXPECT_EQ(m.primary(r), 4);
  ASSERT_EQ(m.backups(r).size(), 2u);
  EXPECT_EQ(m.backups(r)[0], 0);
  EXPECT_EQ(m.backups(r)[1], 2);
  EXPECT_EQ(m.replica_region(0, r), region_id(0, RegionMap::kReplicaBase + 2 * 2 + 1));
  // Every node keeps f x (nodes - ... ) replicas: each region has 2 backups.
  size_t total = 0;
  for (NodeId n : {0, 2, 4}) total += m.replicas_on(n).size();
  EXPECT_EQ(total, 3u * 2 * 2);
}

TEST(RegionMapTest, ConfigKeyBackupsIsCheckedAgainstTheNodes) {
  const std::string nodes = "[[node]]\nid = 0\nhost = \"127.0.0.1\"\nport = 7000\n"
                            "[[node]]\nid = 1\nhost = \"127.0.0.1\"\nport = 7001\n";
  auto ok = parse_config("[cluster]\nid = \"x\"\nbackups = 1\n" + nodes, "t.toml");
  ASSERT_OK(ok);
  EXPECT_EQ(ok->backups, 1u);
  auto dflt = parse_config("[cluster]\nid = \"x\"\n" + nodes, "t.toml");
  ASSERT_OK(dflt);
  EXPECT_EQ(dflt->backups, 1u) << "one backup by default when there are two nodes";
  auto too_many = parse_config("[cluster]\nid = \"x\"\nbackups = 2\n" + nodes, "t.toml");
  EXPECT_EQ(too_many.status().code(), Code::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find("t.toml:3: cluster.backups"), std::string::npos)
      << too_many.status().to_string();
  auto range = parse_config("[cluster]\nid = \"x\"\nbackups = 3\n" + nodes, "t.toml");
  EXPECT_EQ(range.status().code(), Code::kInvalidArgument);
}

TEST(BlockAllocatorTest, SlabBlocksRunsAndReleases) {
  std::vector<std::byte> mem(8 * 4096);
  LocalRegion r{region_id(0, 1), mem.data(), mem.size()};
  txn_detail::BlockAllocator b({&r}, 4096);
  auto s = b.take_slab_block(64);
  ASSERT_OK(s);
  EXPECT_EQ(b.info(s->plus(128))->slot, 64u);
  auto run = b.take_run(3);
  ASSERT_OK(run);
  EXPECT_EQ(b.free_blocks(), 4u);
  EXPECT_EQ(b.take_run(5).status().code(), Code::kOutOfMemory);
  auto table = b.take_run(2, /*table=*/true);
  ASSERT_OK(table);
  EXPECT_EQ(b.release_run(*table).code(), Code::kInvalidArgument) << "tables stay";
  EXPECT_EQ(b.release_run(s->plus(64)).code(), Code::kInvalidArgument);
  ASSERT_OK(b.release_run(*run));
  EXPECT_EQ(b.free_blocks(), 5u);
  EXPECT_EQ(b.used_bytes(r.id), 6u * 4096) << "the table ends at the last used block";
  EXPECT_EQ(b.info(GAddr(region_id(0, 2), 0)).status().code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace remora::testing
