// Verbs backend, host-only parts: the peer-info blob (round trip and every
// kind of malformed input) and GID / path-MTU selection. No device needed.
#include <gtest/gtest.h>

#include "fabric/verbs/verbs_wire.h"
#include "support/status_matchers.h"

namespace remora::verbs {
namespace {

PeerInfo sample(NodeId node = 3) {
  PeerInfo p;
  p.node = node;
  p.lid = 0;
  p.gid = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 11, 12, 1};
  p.mtu = 5;
  p.max_nodes = 4;
  for (uint32_t c = 0; c < 2; ++c) {
    WireChannel w;
    w.psn = 0x123456 + c;
    for (uint32_t n = 0; n < p.max_nodes; ++n) w.qpn.push_back(0x11 + 16 * c + n);
    p.channels.push_back(w);
  }
  p.regions.push_back({region_id(node, 0), 0x7f0000000000, 1 << 20, 0xabc});
  p.regions.push_back({region_id(node, 1), 0x7f0000200000, 4096, 0xdef});
  return p;
}

TEST(VerbsWireTest, RoundTripKeepsEveryField) {
  const PeerInfo p = sample();
  auto d = decode_peer_info(3, encode_peer_info(p));
  ASSERT_OK(d);
  EXPECT_EQ(d->node, 3);
  EXPECT_EQ(d->gid, p.gid);
  EXPECT_EQ(d->mtu, 5);
  EXPECT_EQ(d->max_nodes, 4u);
  ASSERT_EQ(d->channels.size(), 2u);
  EXPECT_EQ(d->channels[1].psn, 0x123457u);
  EXPECT_EQ(d->channels[1].qpn, p.channels[1].qpn);
  ASSERT_EQ(d->regions.size(), 2u);
  EXPECT_EQ(d->regions[1].addr, 0x7f0000200000u);
  EXPECT_EQ(d->regions[1].size, 4096u);
  EXPECT_EQ(d->regions[1].rkey, 0xdefu);
}

void expect_refused(const std::vector<uint8_t>& blob, std::string_view why, NodeId node = 3) {
  auto d = decode_peer_info(node, blob);
  ASSERT_FALSE(d.ok()) << why;
  EXPECT_EQ(d.status().code(), Code::kInvalidArgument);
  EXPECT_NE(d.status().message().find(why), std::string::npos) << d.status().message();
}

TEST(VerbsWireTest, EveryTruncationIsRefused) {
  const auto blob = encode_peer_info(sample());
  for (size_t len = 0; len < blob.size(); ++len) {
    auto d = decode_peer_info(3, std::span(blob).first(len));
    EXPECT_EQ(d.status().code(), Code::kInvalidArgument) << "length " << len;
  }
}

TEST(VerbsWireTest, MalformedFieldsAreRefused) {
  auto blob = encode_peer_info(sample());
  expect_refused(blob, "claims to be node 3", 4);
  auto junk = blob;
  junk[0] ^= 1;
  expect_refused(junk, "bad magic");
  auto trailing = blob;
  trailing.push_back(0);
  expect_refused(trailing, "trailing bytes");

  PeerInfo p = sample();
  p.mtu = 6;
  expect_refused(encode_peer_info(p), "bad MTU");
  p = sample();
  p.channels[0].qpn[2] = 0;
  expect_refused(encode_peer_info(p), "bad QP number");
  p = sample();
  p.channels[1].qpn[0] = 0x1000000;
  expect_refused(encode_peer_info(p), "bad QP number");
  p = sample();
  p.channels[0].psn = 0x1000000;
  expect_refused(encode_peer_info(p), "PSN");
  p = sample();
  p.regions[0].size = 0;
  expect_refused(encode_peer_info(p), "size 0");
  p = sample();
  p.regions[1].size = kMaxRegionSize + 1;
  expect_refused(encode_peer_info(p), "size");
  p = sample();
  p.regions[1].id = p.regions[0].id;
  expect_refused(encode_peer_info(p), "twice");
  p = sample();
  p.regions[0].addr = ~0ull - 10;
  expect_refused(encode_peer_info(p), "wraps");
  p = sample();
  p.channels.clear();
  expect_refused(encode_peer_info(p), "channel count");
}

TEST(VerbsWireTest, NodeTableSizeIsChecked) {
  PeerInfo p = sample();
  p.max_nodes = 0;
  for (auto& c : p.channels) c.qpn.clear();
  expect_refused(encode_peer_info(p), "node table");
  p.max_nodes = kMaxBlobNodes + 1;
  expect_refused(encode_peer_info(p), "node table");
}

Gid ipv4_gid(uint8_t last) { return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 0, last}; }
Gid link_local() { return {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0xc0, 0xf5, 0x45, 0xff, 0xfe, 0x0c, 0x96, 0x40}; }

TEST(VerbsGidTest, PrefersIpv4MappedRoceV2) {
  // The layout rxe shows: link-local v1/v2 first, then the IPv4 entries.
  std::vector<GidEntry> t = {{0, link_local(), false}, {1, link_local(), true},
                             {2, ipv4_gid(5), false}, {3, ipv4_gid(5), true}};
  auto i = select_gid_index(t, -1);
  ASSERT_OK(i);
  EXPECT_EQ(*i, 3);
  t.pop_back();  // no v2 entry: the v1 IPv4 entry is next best
  i = select_gid_index(t, -1);
  ASSERT_OK(i);
  EXPECT_EQ(*i, 2);
}

TEST(VerbsGidTest, FallsBackToFirstNonZeroEntry) {
  std::vector<GidEntry> t = {{0, Gid{}, false}, {1, link_local(), true}};
  auto i = select_gid_index(t, -1);
  ASSERT_OK(i);
  EXPECT_EQ(*i, 1);
  std::vector<GidEntry> empty = {{0, Gid{}, true}};
  EXPECT_EQ(select_gid_index(empty, -1).status().code(), Code::kNotFound);
}

TEST(VerbsGidTest, ConfiguredIndexMustExist) {
  std::vector<GidEntry> t = {{0, link_local(), false}, {1, ipv4_gid(9), true}, {4, Gid{}, true}};
  auto i = select_gid_index(t, 0);
  ASSERT_OK(i);
  EXPECT_EQ(*i, 0);  // configured wins over the IPv4-mapped entry
  EXPECT_EQ(select_gid_index(t, 4).status().code(), Code::kNotFound);  // zero GID
  EXPECT_EQ(select_gid_index(t, 7).status().code(), Code::kNotFound);  // not in table
}

TEST(VerbsGidTest, Ipv4MappedDetection) {
  EXPECT_TRUE(gid_is_ipv4_mapped(ipv4_gid(1)));
  EXPECT_FALSE(gid_is_ipv4_mapped(link_local()));
  EXPECT_FALSE(gid_is_ipv4_mapped(Gid{}));
  EXPECT_TRUE(gid_is_zero(Gid{}));
}

TEST(VerbsMtuTest, PathMtuIsTheSmallerEnd) {
  EXPECT_EQ(path_mtu(5, 3), 3);  // 4096 vs 1024
  EXPECT_EQ(path_mtu(1, 5), 1);
  EXPECT_EQ(path_mtu(4, 4), 4);
  EXPECT_EQ(mtu_bytes(5), 4096u);
  EXPECT_EQ(mtu_bytes(3), 1024u);
  EXPECT_EQ(mtu_bytes(1), 256u);
}

}  // namespace
}  // namespace remora::verbs
