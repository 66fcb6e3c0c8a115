#include "remora/cluster/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/status_matchers.h"

namespace remora {
namespace {

constexpr char kSource[] = "configs/t.toml";

TEST(ConfigTest, ParsesFullConfig) {
  Result<Config> c = parse_config(R"(
[cluster]
id = "lab-7"
transport = "verbs"
threads = 4
region_size = "128MiB"
regions_per_node = 3
ring_size = "256 KiB"
connect_timeout_ms = 5000
peer_timeout_ms = 750

[ucx]
tls = "tcp"

[verbs]
device = "rxe0"
port = 2
gid_index = 1

[[node]]
id = 2
host = "10.0.0.3"
port = 7402

[[node]]
id = 0
host = "10.0.0.1"
port = 7400

[[node]]
id = 1
host = "10.0.0.2"
port = 7400
)",
                                  kSource);
  ASSERT_OK(c);
  EXPECT_EQ(c->source, kSource);
  EXPECT_EQ(c->cluster_id, "lab-7");
  EXPECT_EQ(c->transport, "verbs");
  EXPECT_EQ(c->threads, 4u);
  EXPECT_EQ(c->region_size, 128ull << 20);
  EXPECT_EQ(c->regions_per_node, 3u);
  EXPECT_EQ(c->ring_size, 256ull << 10);
  EXPECT_EQ(c->connect_timeout_ms, 5000u);
  EXPECT_EQ(c->peer_timeout_ms, 750u);
  EXPECT_EQ(c->ucx_tls, "tcp");
  EXPECT_EQ(c->verbs_device, "rxe0");
  EXPECT_EQ(c->verbs_port, 2);
  EXPECT_EQ(c->verbs_gid_index, 1);
  ASSERT_EQ(c->nodes.size(), 3u);
  for (NodeId i = 0; i < 3; ++i) {
    EXPECT_EQ(c->nodes[i].id, i) << "nodes are sorted by id";
    EXPECT_EQ(c->nodes[i].host, "10.0.0." + std::to_string(i + 1));
  }
  EXPECT_EQ(c->nodes[2].port, 7402);
}

TEST(ConfigTest, AppliesDefaults) {
  Result<Config> c = parse_config(R"(
[cluster]
id = "x"
[[node]]
id = 5
host = "localhost"
port = 9000
)",
                                  kSource);
  ASSERT_OK(c);
  const Config defaults;
  EXPECT_EQ(c->cluster_id, "x");
  EXPECT_EQ(c->transport, "ucx");
  EXPECT_EQ(c->threads, 1u);
  EXPECT_EQ(c->region_size, 64ull << 20);
  EXPECT_EQ(c->regions_per_node, 1u);
  EXPECT_EQ(c->ring_size, 64ull << 10);
  EXPECT_EQ(c->connect_timeout_ms, 10000u);
  EXPECT_EQ(c->peer_timeout_ms, 2000u);
  EXPECT_EQ(c->ucx_tls, "");
  EXPECT_EQ(c->verbs_device, defaults.verbs_device);
  EXPECT_EQ(c->verbs_port, 1);
  EXPECT_EQ(c->verbs_gid_index, -1);
  ASSERT_EQ(c->nodes.size(), 1u);
  EXPECT_EQ(c->nodes[0].id, 5);
  EXPECT_EQ(c->nodes[0].host, "localhost");
  EXPECT_EQ(c->nodes[0].port, 9000);
}

TEST(ConfigTest, AcceptsIntegerSizesAndInlineNodeTables) {
  Result<Config> c = parse_config(R"(
cluster = { id = "x", region_size = 8192, ring_size = 4096 }
node = [ { id = 0, host = "127.0.0.1", port = 1 },
         { id = 4095, host = "127.0.0.1", port = 65535 } ]
)",
                                  kSource);
  ASSERT_OK(c);
  EXPECT_EQ(c->region_size, 8192u);
  EXPECT_EQ(c->ring_size, 4096u);
  ASSERT_EQ(c->nodes.size(), 2u);
  EXPECT_EQ(c->nodes[1].id, 4095);
  EXPECT_EQ(c->nodes[1].port, 65535);
}

TEST(ConfigTest, NodeLookupAndFabricOptions) {
  Result<Config> c = parse_config(R"(
[cluster]
id = "x"
[ucx]
tls = "shm,self"
[verbs]
device = "mlx5_0"
port = 1
gid_index = 3
[[node]]
id = 3
host = "127.0.0.1"
port = 7403
[[node]]
id = 1
host = "127.0.0.1"
port = 7401
)",
                                  kSource);
  ASSERT_OK(c);
  ASSERT_NE(c->node(3), nullptr);
  EXPECT_EQ(c->node(3)->port, 7403);
  ASSERT_NE(c->node(1), nullptr);
  EXPECT_EQ(c->node(1)->port, 7401);
  EXPECT_EQ(c->node(0), nullptr);
  EXPECT_EQ(c->node(2), nullptr);
  EXPECT_EQ(c->node(4), nullptr);

  FabricOptions o = c->fabric_options(3);
  EXPECT_EQ(o.self, 3);
  EXPECT_EQ(o.transport, "ucx");
  EXPECT_EQ(o.ucx_tls, "shm,self");
  EXPECT_EQ(o.verbs_device, "mlx5_0");
  EXPECT_EQ(o.verbs_port, 1);
  EXPECT_EQ(o.verbs_gid_index, 3);
}

TEST(ConfigTest, SamePortOnDifferentHostsIsAllowed) {
  Result<Config> c = parse_config(R"(
[cluster]
id = "x"
[[node]]
id = 0
host = "10.0.0.1"
port = 7400
[[node]]
id = 1
host = "10.0.0.2"
port = 7400
[[node]]
id = 2
host = "10.0.0.1"
port = 7401
)",
                                  kSource);
  ASSERT_OK(c);
  EXPECT_EQ(c->nodes.size(), 3u);
}

TEST(ConfigTest, SyntaxErrorNamesFileLineAndColumn) {
  Result<Config> c = parse_config("[cluster]\nid = \"x\"\nthreads = = 2\n", kSource);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("configs/t.toml:3:"), std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("syntax error"), std::string::npos);
}

TEST(ConfigTest, TomlDuplicateKeyIsASyntaxError) {
  Result<Config> c = parse_config("[cluster]\nid = \"x\"\nid = \"y\"\n", kSource);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("configs/t.toml:3:"), std::string::npos)
      << c.status().message();
}

TEST(ConfigTest, SuggestsTheIntendedKey) {
  Result<Config> c = parse_config("[cluster]\nid = \"x\"\nthread = 2\n", kSource);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("did you mean 'threads'"), std::string::npos)
      << c.status().message();
}

TEST(ParseSizeTest, AcceptsUnitsAndPlainBytes) {
  struct Case {
    const char* text;
    uint64_t bytes;
  };
  for (const Case& k :
       {Case{"4096", 4096}, Case{"0", 0}, Case{"4096B", 4096}, Case{"4 KiB", 4096},
        Case{"64KiB", 64 << 10}, Case{"64MiB", 64 << 20}, Case{"1GiB", 1ull << 30},
        Case{"2GiB", 2ull << 30}, Case{"  8 mib ", 8 << 20}, Case{"16777216GiB", 1ull << 54}}) {
    Result<uint64_t> r = parse_size(k.text);
    ASSERT_OK(r);
    EXPECT_EQ(*r, k.bytes) << k.text;
  }
}

TEST(ParseSizeTest, RefusesMalformedSizes) {
  for (const char* bad : {"", "  ", "MiB", "-4KiB", "1.5GiB", "64MB", "64 KB", "12 apples",
                          "4 KiB extra", "0x1000", "18446744073709551616", "17179869184GiB"}) {
    Result<uint64_t> r = parse_size(bad);
    ASSERT_FALSE(r.ok()) << '"' << bad << '"';
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("invalid size"), std::string::npos) << r.status().message();
  }
}

TEST(ParseSizeTest, FormatSizeRoundTrips) {
  EXPECT_EQ(format_size(64 << 20), "64MiB");
  EXPECT_EQ(format_size(4096), "4KiB");
  EXPECT_EQ(format_size(2ull << 30), "2GiB");
  EXPECT_EQ(format_size(4097), "4097B");
  EXPECT_EQ(format_size(0), "0B");
  for (uint64_t v : {1ull, 1023ull, 1536ull, 3ull << 20, 5ull << 30}) {
    Result<uint64_t> back = parse_size(format_size(v));
    ASSERT_OK(back);
    EXPECT_EQ(*back, v);
  }
}

}  // namespace
}  // namespace remora
