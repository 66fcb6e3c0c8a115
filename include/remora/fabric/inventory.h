// What the transports of this machine offer, for `remora info`: UCX's
// components, memory domains and transport resources, and the RDMA devices
// libibverbs sees. Read-only queries; nothing is registered or connected.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "remora/common/status.h"

namespace remora {

struct UcxTransport {
  std::string component;  // e.g. "posix", "tcp"
  std::string md;         // memory domain, e.g. "posix", "tcp"
  std::string tl;         // transport, e.g. "posix", "tcp", "self"
  std::string device;     // e.g. "memory", "lo", "eth0"
  std::string type;       // "net", "shm", "self", "acc", "other"
};

struct UcxInventory {
  std::string version;  // ucp_get_version_string()
  std::vector<UcxTransport> transports;
};
Result<UcxInventory> ucx_inventory();

struct RdmaPort {
  uint8_t port = 0;
  std::string state;       // "ACTIVE", "DOWN", ...
  uint32_t active_mtu = 0;  // bytes
  std::string link_layer;  // "Ethernet", "InfiniBand"
  std::vector<std::string> gids;  // non-zero GID table entries "index: gid"
};

struct RdmaDevice {
  std::string name;
  std::string node_guid;
  std::vector<RdmaPort> ports;
};
// An empty list (not an error) when libibverbs sees no device.
Result<std::vector<RdmaDevice>> rdma_inventory();

}  // namespace remora
