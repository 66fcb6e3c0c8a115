// Every kind of bad config input: each must fail with kInvalidArgument and a
// message "<file>:<line>: <key>: ..." pointing at the offending line.
//
// In each case text, the line the error must point at ends with "#<".
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "remora/cluster/config.h"

namespace remora {
namespace {

constexpr char kSource[] = "configs/bad.toml";

struct BadCase {
  const char* name;
  std::string text;
  const char* key;      // dotted key the message must name
  const char* snippet;  // further text the message must contain
};

const std::string kCluster = "[cluster]\nid = \"t\"\n";
const std::string kNode0 = "[[node]]\nid = 0\nhost = \"127.0.0.1\"\nport = 7400\n";

std::string with_cluster_line(const std::string& line) {
  return "[cluster]\nid = \"t\"\n" + line + " #<\n" + kNode0;
}
std::string with_node_line(const std::string& line) {
  return kCluster + kNode0 + "[[node]]\nid = 1\nhost = \"127.0.0.1\"\n" + line + " #<\n";
}

std::vector<BadCase> bad_cases() {
  return {
      // Unknown tables and keys.
      {"UnknownTable", kCluster + kNode0 + "[clusterr] #<\nid = 1\n", "clusterr", "unknown table"},
      {"UnknownArrayOfTables", kCluster + kNode0 + "[[nodes]] #<\nid = 1\n", "nodes",
       "did you mean 'node'"},
      {"UnknownRootKey", "idd = 3 #<\n" + kCluster + kNode0, "idd", "unknown key"},
      {"UnknownClusterKey", with_cluster_line("thread = 2"), "cluster.thread", "unknown key"},
      {"UnknownNodeKey", with_node_line("hots = \"x\""), "node.hots", "unknown key"},
      {"UnknownUcxKey", kCluster + "[ucx]\ntsl = \"tcp\" #<\n" + kNode0, "ucx.tsl", "'tls'"},
      {"UnknownVerbsKey", kCluster + "[verbs]\ndev = \"rxe0\" #<\n" + kNode0, "verbs.dev",
       "unknown key"},
      {"UnknownSubtable", "[cluster]\nid = \"t\"\n[cluster.extra] #<\nx = 1\n" + kNode0,
       "cluster.extra", "unknown table"},
      // Missing required fields.
      {"MissingClusterTable", "#<\n" + kNode0, "cluster.id", "missing"},
      {"MissingClusterId", "[cluster] #<\nthreads = 2\n" + kNode0, "cluster.id", "missing"},
      {"NoNodes", "#<\n" + kCluster, "node", "at least one"},
      {"EmptyNodeArray", "node = [] #<\n" + kCluster, "node", "at least one"},
      {"MissingNodeId", kCluster + "[[node]] #<\nhost = \"a\"\nport = 1\n", "node.id", "missing"},
      {"MissingNodeHost", kCluster + kNode0 + "[[node]] #<\nid = 1\nport = 1\n", "node.host",
       "missing"},
      {"MissingNodePort", kCluster + "[[node]] #<\nid = 1\nhost = \"a\"\n", "node.port", "missing"},
      // Wrong types.
      {"ClusterNotTable", "cluster = 1 #<\n" + kNode0, "cluster", "expected a table"},
      {"ClusterIdNotString", "[cluster]\nid = 5 #<\n" + kNode0, "cluster.id",
       "expected string, got integer"},
      {"ThreadsString", with_cluster_line("threads = \"2\""), "cluster.threads",
       "expected integer, got string"},
      {"ThreadsFloat", with_cluster_line("threads = 2.0"), "cluster.threads",
       "expected integer, got float"},
      {"RegionSizeFloat", with_cluster_line("region_size = 1.5"), "cluster.region_size",
       "expected size"},
      {"RegionSizeBool", with_cluster_line("region_size = true"), "cluster.region_size",
       "got boolean"},
      {"NodeNotArray", "node = 5 #<\n" + kCluster, "node", "expected an array of tables"},
      {"NodeElementNotTable", "node = [ 5 ] #<\n" + kCluster, "node", "expected a table"},
      {"NodePortString", with_node_line("port = \"7401\""), "node.port", "expected integer"},
      {"TlsNotString", kCluster + "[ucx]\ntls = [\"tcp\"] #<\n" + kNode0, "ucx.tls",
       "expected string, got array"},
      {"UcxNotTable", "ucx = \"tcp\" #<\n" + kCluster + kNode0, "ucx", "expected a table"},
      {"VerbsPortString", kCluster + "[verbs]\nport = \"1\" #<\n" + kNode0, "verbs.port",
       "expected integer"},
      // Out-of-range and malformed values.
      {"EmptyClusterId", "[cluster]\nid = \"\" #<\n" + kNode0, "cluster.id", "must not be empty"},
      {"ClusterIdWithSpace", "[cluster]\nid = \"a b\" #<\n" + kNode0, "cluster.id",
       "without spaces"},
      {"ClusterIdTooLong", "[cluster]\nid = \"" + std::string(65, 'a') + "\" #<\n" + kNode0,
       "cluster.id", "longer than 64"},
      {"UnknownTransport", with_cluster_line("transport = \"rdma\""), "cluster.transport",
       "\"rdma\" is not one of"},
      {"ThreadsZero", with_cluster_line("threads = 0"), "cluster.threads",
       "0 out of range [1, 64]"},
      {"ThreadsTooMany", with_cluster_line("threads = 65"), "cluster.threads", "65 out of range"},
      {"RegionTooSmall", with_cluster_line("region_size = \"1KiB\""), "cluster.region_size",
       "1KiB out of range [4KiB, 2GiB]"},
      {"RegionTooLarge", with_cluster_line("region_size = \"4GiB\""), "cluster.region_size",
       "out of range"},
      {"RegionNegative", with_cluster_line("region_size = -4096"), "cluster.region_size",
       "negative"},
      {"RegionNotPageMultiple", with_cluster_line("region_size = 6000"), "cluster.region_size",
       "not a multiple of 4KiB"},
      {"RegionSizeUnparseable", with_cluster_line("region_size = \"64MB\""), "cluster.region_size",
       "invalid size \"64MB\""},
      {"RingSizeUnparseable", with_cluster_line("ring_size = \"lots\""), "cluster.ring_size",
       "invalid size"},
      {"RingNotPowerOfTwo", with_cluster_line("ring_size = \"12KiB\""), "cluster.ring_size",
       "not a power of two"},
      {"RingTooLarge", with_cluster_line("ring_size = \"128MiB\""), "cluster.ring_size",
       "out of range"},
      {"RegionsPerNodeZero", with_cluster_line("regions_per_node = 0"), "cluster.regions_per_node",
       "out of range"},
      {"RegionsPerNodeTooMany", with_cluster_line("regions_per_node = 257"),
       "cluster.regions_per_node", "out of range"},
      {"ConnectTimeoutTooShort", with_cluster_line("connect_timeout_ms = 99"),
       "cluster.connect_timeout_ms", "out of range"},
      {"PeerTimeoutTooLong", with_cluster_line("peer_timeout_ms = 600001"),
       "cluster.peer_timeout_ms", "out of range"},
      {"TlsWithSpace", kCluster + "[ucx]\ntls = \"shm, self\" #<\n" + kNode0, "ucx.tls",
       "without spaces"},
      {"VerbsPortZero", kCluster + "[verbs]\nport = 0 #<\n" + kNode0, "verbs.port", "out of range"},
      {"GidIndexTooSmall", kCluster + "[verbs]\ngid_index = -2 #<\n" + kNode0, "verbs.gid_index",
       "out of range"},
      {"NodeIdTooLarge", kCluster + "[[node]]\nid = 4096 #<\nhost = \"a\"\nport = 1\n", "node.id",
       "4096 out of range [0, 4095]"},
      {"NodeIdNegative", kCluster + "[[node]]\nid = -1 #<\nhost = \"a\"\nport = 1\n", "node.id",
       "out of range"},
      {"PortZero", with_node_line("port = 0"), "node.port", "0 out of range [1, 65535]"},
      {"PortTooLarge", with_node_line("port = 65536"), "node.port", "out of range"},
      {"EmptyHost", kCluster + "[[node]]\nid = 0\nhost = \"\" #<\nport = 1\n", "node.host",
       "must not be empty"},
      // Duplicates: the error points at the later entry.
      {"DuplicateNodeId",
       kCluster + kNode0 + "[[node]]\nid = 0 #<\nhost = \"127.0.0.1\"\nport = 7401\n", "node.id",
       "duplicate id 0 (also at line 3)"},
      {"DuplicateAddress",
       kCluster + kNode0 + "[[node]]\nid = 1\nhost = \"127.0.0.1\"\nport = 7400 #<\n", "node.port",
       "duplicate port 7400 (also node 0)"},
      {"DuplicateLoopbackSpelling",
       kCluster + kNode0 + "[[node]]\nid = 1\nhost = \"localhost\"\nport = 7400 #<\n", "node.port",
       "duplicate port 7400 (also node 0)"},
  };
}

// Keeps gtest from printing the case as raw bytes.
void PrintTo(const BadCase& k, std::ostream* os) { *os << k.name; }

// 1-based line of the "#<" marker.
int marked_line(const std::string& text) {
  size_t at = text.find("#<");
  int line = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, FailsWithLocatedMessage) {
  const BadCase& k = GetParam();
  ASSERT_NE(k.text.find("#<"), std::string::npos) << "case has no line marker";
  Result<Config> c = parse_config(k.text, kSource);
  ASSERT_FALSE(c.ok()) << k.text;
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  const std::string& msg = c.status().message();
  std::string prefix =
      std::string(kSource) + ":" + std::to_string(marked_line(k.text)) + ": " + k.key + ": ";
  EXPECT_EQ(msg.rfind(prefix, 0), 0u)
      << "message: " << msg << "\nexpected prefix: " << prefix << "\ntext:\n"
      << k.text;
  EXPECT_NE(msg.find(k.snippet), std::string::npos) << "message: " << msg;
}

INSTANTIATE_TEST_SUITE_P(AllCases, BadConfigTest, ::testing::ValuesIn(bad_cases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace remora
