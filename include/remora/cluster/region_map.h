// RegionMap: where each data region lives — its primary and `f` backups.
//
// Epoch 1 is the static configuration: the data regions of node n are
// region_id(n, 1 + i) with n as primary, and the backups of a region are the
// next `f` nodes after its primary in the config's node order (wrapping).
// A backup b keeps its replica of region r in its own region
// replica_region(b, r) = region_id(b, kReplicaBase + p * regions_per_node + i),
// p being the primary's position in the node list. Recovery (a later issue)
// will produce maps of later epochs with promoted backups; callers only ever
// ask the map, never compute placement themselves.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "remora/cluster/config.h"
#include "remora/fabric/types.h"

namespace remora {

class RegionMap {
 public:
  static constexpr uint32_t kReplicaBase = 0x4000;
  static constexpr uint32_t kMaxBackups = 2;

  // REQUIRES: cfg passed parse_config (backups < nodes, nodes * regions fits).
  explicit RegionMap(const Config& cfg);

  uint32_t epoch() const { return 1; }
  uint32_t backups_per_region() const { return f_; }
  uint32_t regions_per_node() const { return per_node_; }

  // A data region of some node (not a system, scratch or replica region).
  bool is_data_region(RegionId r) const;
  NodeId primary(RegionId r) const { return region_owner(r); }
  // The backups of data region r, in order (size == backups_per_region()).
  std::span<const NodeId> backups(RegionId r) const;
  // The region on `backup` that mirrors data region r.
  RegionId replica_region(NodeId backup, RegionId r) const;

  struct Replica {
    RegionId primary_region;  // the data region mirrored
    RegionId local_region;    // where this node keeps the copy
  };
  // Every replica that `node` keeps.
  std::vector<Replica> replicas_on(NodeId node) const;

 private:
  int position(NodeId n) const;

  std::vector<NodeId> nodes_;
  std::vector<int> position_;  // node id -> index in nodes_, or -1
  uint32_t per_node_ = 1;
  uint32_t f_ = 0;
  // backups_[position * kMaxBackups + k]
  std::vector<NodeId> backups_;
};

}  // namespace remora
