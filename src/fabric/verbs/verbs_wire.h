// Verbs backend: the peer-info blob and the pure decisions made from device
// data (GID selection, path MTU). No libibverbs calls here, so everything in
// this header is testable on a host without an RDMA device.
//
// Blob (little-endian, common/codec.h):
//   u32 magic "RMVB" | u16 version | u16 node | u16 lid | u8 gid[16] |
//   u8 active_mtu (IBV_MTU_* enum, 1..5) | u32 channels | u32 max_nodes |
//   per channel: u32 psn, then max_nodes x u32 qpn (the QP that channel keeps
//   for node id k; 24-bit, non-zero) |
//   u32 regions | per region: u32 id | u64 addr | u64 size | u32 rkey
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/types.h"

namespace remora::verbs {

constexpr uint32_t kInfoMagic = 0x42564d52;  // "RMVB"
constexpr uint16_t kInfoVersion = 1;
constexpr uint32_t kMaxChannels = 1024;
constexpr uint32_t kMaxBlobNodes = 4096;
constexpr uint32_t kMaxRegions = 65536;

using Gid = std::array<uint8_t, 16>;

struct WireRegion {
  RegionId id = 0;
  uint64_t addr = 0;
  uint64_t size = 0;
  uint32_t rkey = 0;
};

struct WireChannel {
  uint32_t psn = 0;
  std::vector<uint32_t> qpn;  // indexed by the remote node id
};

struct PeerInfo {
  NodeId node = kInvalidNode;
  uint16_t lid = 0;
  Gid gid{};
  uint8_t mtu = 0;  // ibv_mtu enum value
  uint32_t max_nodes = 0;
  std::vector<WireChannel> channels;
  std::vector<WireRegion> regions;
};

std::vector<uint8_t> encode_peer_info(const PeerInfo& p);

// Validates everything: magic, version, the claimed node id (must be
// `expected_node`), counts, QPNs (24-bit, non-zero), MTU enum, region sizes
// (0 < size <= kMaxRegionSize), duplicate region ids, trailing bytes.
// Malformed input gives kInvalidArgument naming what is wrong.
Result<PeerInfo> decode_peer_info(NodeId expected_node, std::span<const uint8_t> blob);

// One entry of a port's GID table as the device reports it.
struct GidEntry {
  int index = 0;
  Gid gid{};
  bool roce_v2 = false;
};

bool gid_is_zero(const Gid& g);
bool gid_is_ipv4_mapped(const Gid& g);  // ::ffff:a.b.c.d

// The GID index to use: `configured` (>= 0) if the table has a non-zero
// entry there, else the first IPv4-mapped RoCE v2 entry, else the first
// IPv4-mapped entry, else (InfiniBand) the first non-zero entry.
// kNotFound when nothing fits, with the reason.
Result<int> select_gid_index(std::span<const GidEntry> table, int configured);

// Path MTU of a connection: the smaller of both ends' active MTU (IBV_MTU_*
// enum values 1..5, i.e. 256..4096 bytes).
uint8_t path_mtu(uint8_t local_mtu, uint8_t remote_mtu);
constexpr uint32_t mtu_bytes(uint8_t mtu_enum) { return mtu_enum ? 128u << mtu_enum : 0; }

}  // namespace remora::verbs
