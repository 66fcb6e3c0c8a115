// Cluster configuration: TOML text -> validated Config.
//
// Validation is strict on purpose: an unknown key is an error, so a typo like
// `thread = 4` cannot silently leave the default in place.
#include "remora/cluster/config.h"
#include "remora/cluster/region_map.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "cluster/toml_fields.h"

namespace remora {
namespace {

using config_detail::located_error;
using config_detail::toml_type_name;
using config_detail::TomlFields;

constexpr int64_t kMaxNodes = 4096;              // node ids are < 4096
constexpr size_t kMaxIdentifier = 255;           // host names, device names
constexpr size_t kMaxClusterId = 64;             // sent in every hello
constexpr uint64_t kMaxConfigFile = 1ull << 20;  // a config is a few KiB
constexpr int64_t kMinTimeoutMs = 100;
constexpr int64_t kMaxTimeoutMs = 600000;

// A region at line 1, for errors about things missing from the whole file.
toml::source_region file_start() {
  toml::source_region r;
  r.begin = {1, 1};
  r.end = {1, 1};
  return r;
}

// Printable ASCII without spaces: ids, host names, transport lists.
bool is_token(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

Status check_token(const TomlFields& f, std::string_view key, const std::string& value,
                   size_t min_len, size_t max_len) {
  if (value.size() < min_len) return f.error(key, "must not be empty");
  if (value.size() > max_len) {
    return f.error(key, "longer than " + std::to_string(max_len) + " characters");
  }
  if (!is_token(value)) {
    return f.error(key, "\"" + value + "\" must be printable ASCII without spaces");
  }
  return Status::OK();
}

Status parse_toml(std::string_view text, std::string_view source, toml::table* out) {
  try {
    *out = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    return Status::InvalidArgument(std::string(source) + ":" + std::to_string(at.line) + ":" +
                                   std::to_string(at.column) +
                                   ": TOML syntax error: " + std::string(e.description()));
  }
  return Status::OK();
}

// The table under `key` in `parent`, or nullptr if absent. Fails if `key`
// holds something other than a table.
Status sub_table(const TomlFields& parent, std::string_view key, const toml::table** out) {
  *out = nullptr;
  const toml::node* node = parent.table().get(key);
  if (node == nullptr) return Status::OK();
  *out = node->as_table();
  if (*out == nullptr) {
    return parent.error(key, "expected a table, got " + std::string(toml_type_name(node->type())));
  }
  return Status::OK();
}

Status read_cluster_id(const TomlFields& f, Config* c) {
  std::optional<std::string> id;
  REMORA_RETURN_IF_ERROR(f.get_string("id", &id));
  if (!id) return f.missing("id");
  REMORA_RETURN_IF_ERROR(check_token(f, "id", *id, 1, kMaxClusterId));
  c->cluster_id = std::move(*id);
  return Status::OK();
}

Status read_transport(const TomlFields& f, Config* c) {
  std::optional<std::string> transport;
  REMORA_RETURN_IF_ERROR(f.get_string("transport", &transport));
  if (!transport) return Status::OK();
  if (*transport != "ucx" && *transport != "verbs") {
    return f.error("transport", "\"" + *transport + "\" is not one of \"ucx\", \"verbs\"");
  }
  c->transport = std::move(*transport);
  return Status::OK();
}

Status read_sizes(const TomlFields& f, Config* c) {
  std::optional<uint64_t> region, ring;
  REMORA_RETURN_IF_ERROR(f.get_size("region_size", 4096, kMaxRegionSize, &region));
  if (region) {
    if (*region % 4096 != 0) {
      return f.error("region_size", format_size(*region) + " is not a multiple of 4KiB");
    }
    c->region_size = *region;
  }
  REMORA_RETURN_IF_ERROR(f.get_size("ring_size", 4096, 64ull << 20, &ring));
  if (ring) {
    if ((*ring & (*ring - 1)) != 0) {
      return f.error("ring_size", format_size(*ring) + " is not a power of two");
    }
    c->ring_size = *ring;
  }
  return Status::OK();
}

Status read_cluster(const TomlFields& root, Config* c) {
  const toml::table* table = nullptr;
  REMORA_RETURN_IF_ERROR(sub_table(root, "cluster", &table));
  if (table == nullptr) {
    return located_error(root.source(), file_start(), "cluster.id",
                         "missing required key (no [cluster] table)");
  }
  TomlFields f(*table, root.source(), "cluster");
  REMORA_RETURN_IF_ERROR(
      f.check_keys({"id", "transport", "threads", "region_size", "regions_per_node", "ring_size",
                    "connect_timeout_ms", "peer_timeout_ms", "backups"}));
  REMORA_RETURN_IF_ERROR(read_cluster_id(f, c));
  REMORA_RETURN_IF_ERROR(read_transport(f, c));
  REMORA_RETURN_IF_ERROR(f.read_int("threads", 1, 64, &c->threads));
  REMORA_RETURN_IF_ERROR(read_sizes(f, c));
  REMORA_RETURN_IF_ERROR(f.read_int("regions_per_node", 1, 256, &c->regions_per_node));
  REMORA_RETURN_IF_ERROR(
      f.read_int("connect_timeout_ms", kMinTimeoutMs, kMaxTimeoutMs, &c->connect_timeout_ms));
  return f.read_int("peer_timeout_ms", kMinTimeoutMs, kMaxTimeoutMs, &c->peer_timeout_ms);
}

Status read_ucx(const TomlFields& root, Config* c) {
  const toml::table* table = nullptr;
  REMORA_RETURN_IF_ERROR(sub_table(root, "ucx", &table));
  if (table == nullptr) return Status::OK();
  TomlFields f(*table, root.source(), "ucx");
  REMORA_RETURN_IF_ERROR(f.check_keys({"tls"}));
  std::optional<std::string> tls;
  REMORA_RETURN_IF_ERROR(f.get_string("tls", &tls));
  if (!tls) return Status::OK();
  REMORA_RETURN_IF_ERROR(check_token(f, "tls", *tls, 0, kMaxIdentifier));
  c->ucx_tls = std::move(*tls);
  return Status::OK();
}

Status read_verbs(const TomlFields& root, Config* c) {
  const toml::table* table = nullptr;
  REMORA_RETURN_IF_ERROR(sub_table(root, "verbs", &table));
  if (table == nullptr) return Status::OK();
  TomlFields f(*table, root.source(), "verbs");
  REMORA_RETURN_IF_ERROR(f.check_keys({"device", "port", "gid_index"}));
  std::optional<std::string> device;
  REMORA_RETURN_IF_ERROR(f.get_string("device", &device));
  if (device) {
    REMORA_RETURN_IF_ERROR(check_token(f, "device", *device, 0, kMaxIdentifier));
    c->verbs_device = std::move(*device);
  }
  REMORA_RETURN_IF_ERROR(f.read_int("port", 1, 255, &c->verbs_port));
  return f.read_int("gid_index", -1, 255, &c->verbs_gid_index);
}

Status read_node(const TomlFields& f, NodeConfig* n) {
  REMORA_RETURN_IF_ERROR(f.check_keys({"id", "host", "port"}));
  std::optional<int64_t> id, port;
  std::optional<std::string> host;
  REMORA_RETURN_IF_ERROR(f.get_int("id", 0, kMaxNodes - 1, &id));
  if (!id) return f.missing("id");
  REMORA_RETURN_IF_ERROR(f.get_string("host", &host));
  if (!host) return f.missing("host");
  REMORA_RETURN_IF_ERROR(check_token(f, "host", *host, 1, kMaxIdentifier));
  REMORA_RETURN_IF_ERROR(f.get_int("port", 1, 65535, &port));
  if (!port) return f.missing("port");
  n->id = static_cast<NodeId>(*id);
  n->host = std::move(*host);
  n->port = static_cast<uint16_t>(*port);
  return Status::OK();
}

// Two spellings of loopback name the same endpoint.
std::string canonical_host(const std::string& host) {
  return host == "localhost" ? "127.0.0.1" : host;
}

// Checks one node against those before it in the file; the error is placed
// on the later of the two entries.
Status check_unique(const TomlFields& f, const NodeConfig& n,
                    std::map<NodeId, uint32_t>* line_of_id,
                    std::map<std::pair<std::string, uint16_t>, NodeId>* owner_of_address) {
  auto [id_it, id_new] = line_of_id->emplace(n.id, f.table().source().begin.line);
  if (!id_new) {
    return f.error("id", "duplicate id " + std::to_string(n.id) + " (also at line " +
                             std::to_string(id_it->second) + ")");
  }
  auto [addr_it, addr_new] =
      owner_of_address->emplace(std::make_pair(canonical_host(n.host), n.port), n.id);
  if (!addr_new) {
    return f.error("port", "duplicate port " + std::to_string(n.port) + " (also node " +
                               std::to_string(addr_it->second) + ")");
  }
  return Status::OK();
}

Status read_nodes(const TomlFields& root, Config* c) {
  const toml::node* node = root.table().get("node");
  if (node == nullptr) {
    return located_error(root.source(), file_start(), "node", "at least one [[node]] is required");
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    return root.error("node", "expected an array of tables ([[node]]), got " +
                                  std::string(toml_type_name(node->type())));
  }
  if (array->empty()) return root.error("node", "at least one [[node]] is required");
  std::map<NodeId, uint32_t> line_of_id;
  std::map<std::pair<std::string, uint16_t>, NodeId> owner_of_address;
  for (const toml::node& element : *array) {
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      return located_error(root.source(), element.source(), "node",
                           "expected a table, got " + std::string(toml_type_name(element.type())));
    }
    TomlFields f(*table, root.source(), "node");
    NodeConfig n;
    REMORA_RETURN_IF_ERROR(read_node(f, &n));
    REMORA_RETURN_IF_ERROR(check_unique(f, n, &line_of_id, &owner_of_address));
    c->nodes.push_back(std::move(n));
  }
  std::sort(c->nodes.begin(), c->nodes.end(),
            [](const NodeConfig& a, const NodeConfig& b) { return a.id < b.id; });
  return Status::OK();
}

Status read_file(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = path + ": cannot open: " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(std::move(msg)) : Status::IoError(std::move(msg));
  }
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = Status::IoError(path + ": fstat: " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = Status::IoError(path + ": not a regular file");
  } else if (static_cast<uint64_t>(st.st_size) > kMaxConfigFile) {
    status = Status::InvalidArgument(path + ": larger than " + format_size(kMaxConfigFile) +
                                     "; not a config file?");
  }
  char buf[4096];
  while (status.ok()) {
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got == 0) break;
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) status = Status::IoError(path + ": read: " + std::strerror(errno));
    if (got > 0) out->append(buf, static_cast<size_t>(got));
  }
  ::close(fd);
  return status;
}

}  // namespace

const NodeConfig* Config::node(NodeId id) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), id,
                             [](const NodeConfig& n, NodeId v) { return n.id < v; });
  return it != nodes.end() && it->id == id ? &*it : nullptr;
}

FabricOptions Config::fabric_options(NodeId self) const {
  FabricOptions o;
  o.transport = transport;
  o.self = self;
  o.ucx_tls = ucx_tls;
  o.verbs_device = verbs_device;
  o.verbs_port = verbs_port;
  o.verbs_gid_index = verbs_gid_index;
  return o;
}

// [cluster] backups: 0..2 and fewer than the nodes; unset means 1 when there
// are at least two nodes. Read after the nodes, which bound it.
Status read_backups(const TomlFields& root, Config* c) {
  const toml::table* table = nullptr;
  REMORA_RETURN_IF_ERROR(sub_table(root, "cluster", &table));
  TomlFields f(*table, root.source(), "cluster");
  std::optional<int64_t> backups;
  REMORA_RETURN_IF_ERROR(f.get_int("backups", 0, RegionMap::kMaxBackups, &backups));
  const size_t nodes = c->nodes.size();
  if (!backups) {
    c->backups = nodes >= 2 ? 1 : 0;
    return Status::OK();
  }
  if (static_cast<size_t>(*backups) >= nodes) {
    return f.error("backups", fmt::format("{} backups need at least {} nodes (the config has {})",
                                          *backups, *backups + 1, nodes));
  }
  c->backups = static_cast<uint32_t>(*backups);
  return Status::OK();
}

Status check_replica_space(const TomlFields& root, const Config& c) {
  if (c.nodes.size() * c.regions_per_node < RegionMap::kReplicaBase) return Status::OK();
  return located_error(root.source(), file_start(), "cluster.regions_per_node",
                       fmt::format("{} nodes x {} regions leave no room for replica region ids",
                                   c.nodes.size(), c.regions_per_node));
}

Result<Config> parse_config(std::string_view text, std::string_view source) {
  toml::table root;
  REMORA_RETURN_IF_ERROR(parse_toml(text, source, &root));
  TomlFields fields(root, source, "");
  REMORA_RETURN_IF_ERROR(fields.check_keys({"cluster", "ucx", "verbs", "node"}));
  Config c;
  c.source = std::string(source);
  REMORA_RETURN_IF_ERROR(read_cluster(fields, &c));
  REMORA_RETURN_IF_ERROR(read_ucx(fields, &c));
  REMORA_RETURN_IF_ERROR(read_verbs(fields, &c));
  REMORA_RETURN_IF_ERROR(read_nodes(fields, &c));
  REMORA_RETURN_IF_ERROR(read_backups(fields, &c));
  REMORA_RETURN_IF_ERROR(check_replica_space(fields, c));
  return c;
}

Result<Config> load_config(const std::string& path) {
  std::string text;
  REMORA_RETURN_IF_ERROR(read_file(path, &text));
  return parse_config(text, path);
}

}  // namespace remora
