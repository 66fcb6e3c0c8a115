// Cluster configuration, loaded from TOML.
//
// Every error names the file, the line and the key:
//   "configs/x.toml:12: node.port: duplicate port 7400 (also node 0)".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/fabric.h"
#include "remora/fabric/types.h"

namespace remora {

struct NodeConfig {
  NodeId id = 0;
  std::string host;   // control-plane address (IPv4 literal or "localhost")
  uint16_t port = 0;  // control-plane TCP port
};

struct Config {
  std::string source;       // file the config came from, for messages
  std::string cluster_id;   // nodes presenting another id are refused
  std::string transport = "ucx";
  uint32_t threads = 1;             // engine threads per node
  uint64_t region_size = 64 << 20;  // bytes per data region
  uint32_t regions_per_node = 1;
  uint32_t backups = 0;             // f: backups per data region (region_map.h)
  uint64_t ring_size = 64 << 10;    // bytes per incoming message ring
  uint32_t connect_timeout_ms = 10000;
  uint32_t peer_timeout_ms = 2000;  // control heartbeat silence => peer gone
  std::string ucx_tls;              // [ucx] tls
  std::string verbs_device;         // [verbs] device
  int verbs_port = 1;               // [verbs] port
  int verbs_gid_index = -1;         // [verbs] gid_index
  std::vector<NodeConfig> nodes;    // sorted by id

  const NodeConfig* node(NodeId id) const;
  FabricOptions fabric_options(NodeId self) const;
};

// Parses TOML text; `source` names it in error messages.
Result<Config> parse_config(std::string_view text, std::string_view source);
Result<Config> load_config(const std::string& path);

// Parses "64MiB", "4 KiB", "1GiB", "4096" (also as a TOML integer).
Result<uint64_t> parse_size(std::string_view text);

// Inverse of parse_size for messages: "64MiB" when the unit divides evenly,
// else plain bytes ("4097B").
std::string format_size(uint64_t bytes);

}  // namespace remora
