// load_config on real files: the shipped configs/, missing and unreadable
// paths, and a mutation fuzzer over a valid config.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "remora/cluster/config.h"
#include "support/status_matchers.h"

namespace remora {
namespace {

namespace fs = std::filesystem;

// The source tree's configs/: $REMORA_SOURCE_DIR/configs, else the first
// ancestor of the working directory that holds configs/local-3.toml.
fs::path configs_dir() {
  if (const char* env = std::getenv("REMORA_SOURCE_DIR"); env != nullptr && *env != '\0') {
    return fs::path(env) / "configs";
  }
  for (fs::path p = fs::current_path(); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p / "configs" / "local-3.toml")) return p / "configs";
    if (p == p.parent_path()) break;
  }
  return {};
}

TEST(ConfigFilesTest, EveryShippedConfigLoads) {
  fs::path dir = configs_dir();
  ASSERT_FALSE(dir.empty()) << "configs/ not found; set REMORA_SOURCE_DIR";
  int loaded = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    Result<Config> c = load_config(entry.path().string());
    EXPECT_OK(c);
    if (c.ok()) {
      EXPECT_EQ(c->source, entry.path().string());
      EXPECT_FALSE(c->nodes.empty());
    }
    ++loaded;
  }
  EXPECT_GE(loaded, 4);
}

TEST(ConfigFilesTest, LocalConfigsHaveTheDocumentedShape) {
  fs::path dir = configs_dir();
  ASSERT_FALSE(dir.empty());
  struct Expect {
    const char* file;
    size_t nodes;
    uint16_t first_port;
    const char* tls;
  };
  for (const Expect& e :
       {Expect{"local-3.toml", 3, 7400, "shm,self"}, Expect{"local-3-tcp.toml", 3, 7410, "tcp"},
        Expect{"local-2.toml", 2, 7420, "shm,self"}}) {
    Result<Config> c = load_config((dir / e.file).string());
    ASSERT_OK(c);
    EXPECT_EQ(c->transport, "ucx") << e.file;
    EXPECT_EQ(c->ucx_tls, e.tls) << e.file;
    EXPECT_EQ(c->threads, 1u) << e.file;
    EXPECT_EQ(c->region_size, 64ull << 20) << e.file;
    EXPECT_EQ(c->ring_size, 64ull << 10) << e.file;
    ASSERT_EQ(c->nodes.size(), e.nodes) << e.file;
    for (size_t i = 0; i < e.nodes; ++i) {
      EXPECT_EQ(c->nodes[i].id, i) << e.file;
      EXPECT_EQ(c->nodes[i].host, "127.0.0.1") << e.file;
      EXPECT_EQ(c->nodes[i].port, e.first_port + i) << e.file;
    }
  }
}

TEST(ConfigFilesTest, MissingFileIsNotFound) {
  Result<Config> c = load_config("/nonexistent/remora/none.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kNotFound);
  EXPECT_NE(c.status().message().find("/nonexistent/remora/none.toml"), std::string::npos);
}

TEST(ConfigFilesTest, DirectoryIsIoError) {
  Result<Config> c = load_config(fs::temp_directory_path().string());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kIoError);
}

TEST(ConfigFilesTest, ErrorsInAFileNameThePath) {
  fs::path path =
      fs::temp_directory_path() / ("remora_config_test_" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(path);
    out << "[cluster]\nid = \"x\"\nthreads = 0\n[[node]]\nid = 0\nhost = \"a\"\nport = 1\n";
  }
  Result<Config> c = load_config(path.string());
  fs::remove(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(c.status().message().rfind(path.string() + ":3: cluster.threads: ", 0), 0u)
      << c.status().message();
}

constexpr char kValid[] = R"([cluster]
id = "fuzz"
transport = "ucx"
threads = 2
region_size = "64MiB"
regions_per_node = 2
ring_size = "64KiB"
connect_timeout_ms = 10000
peer_timeout_ms = 2000
[ucx]
tls = "shm,self"
[verbs]
device = "rxe0"
port = 1
gid_index = -1
[[node]]
id = 0
host = "127.0.0.1"
port = 7400
[[node]]
id = 1
host = "127.0.0.1"
port = 7401
)";

// One random edit: overwrite, insert or delete a byte, or duplicate a line.
std::string mutate(std::string text, std::mt19937& rng) {
  static constexpr char kAlphabet[] = "[]=\"\n #.,-0123456789abcdefxyz{}\\'\t\x01\xc3\xff";
  auto pick = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  auto any_char = [&] { return kAlphabet[pick(sizeof kAlphabet - 1)]; };
  if (text.empty()) return std::string(1, any_char());
  size_t at = pick(text.size());
  switch (pick(4)) {
    case 0:
      text[at] = any_char();
      break;
    case 1:
      text.insert(at, 1, any_char());
      break;
    case 2:
      text.erase(at, 1 + pick(8));
      break;
    default: {
      size_t start = text.rfind('\n', at);
      start = start == std::string::npos ? 0 : start + 1;
      size_t end = text.find('\n', at);
      std::string line = text.substr(start, end == std::string::npos ? end : end - start + 1);
      text.insert(start, line);
    }
  }
  return text;
}

TEST(ConfigFuzzTest, MutatedConfigsNeverCrash) {
  ASSERT_OK(parse_config(kValid, "fuzz.toml"));
  std::mt19937 rng(12345);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 600; ++i) {
    std::string text = kValid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) text = mutate(std::move(text), rng);
    Result<Config> c = parse_config(text, "fuzz.toml");
    if (c.ok()) {
      ++accepted;
      EXPECT_FALSE(c->nodes.empty());
      EXPECT_FALSE(c->cluster_id.empty());
      continue;
    }
    ++refused;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << text;
    const std::string& msg = c.status().message();
    ASSERT_GT(msg.size(), 11u);
    EXPECT_EQ(msg.rfind("fuzz.toml:", 0), 0u) << msg;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(msg[10]))) << "no line number: " << msg;
  }
  // Both outcomes must occur, or the mutations are too weak or too strong.
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace remora
