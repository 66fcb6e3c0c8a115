#include "remora/cluster/region_map.h"

#include <cassert>

namespace remora {

RegionMap::RegionMap(const Config& cfg)
    : per_node_(cfg.regions_per_node), f_(cfg.backups) {
  for (const NodeConfig& n : cfg.nodes) nodes_.push_back(n.id);
  const size_t max_id = nodes_.empty() ? 0 : nodes_.back();
  position_.assign(max_id + 1, -1);
  for (size_t p = 0; p < nodes_.size(); ++p) position_[nodes_[p]] = static_cast<int>(p);
  assert(f_ <= kMaxBackups && (nodes_.empty() || f_ < nodes_.size()));
  backups_.assign(nodes_.size() * kMaxBackups, kInvalidNode);
  for (size_t p = 0; p < nodes_.size(); ++p)
    for (uint32_t k = 0; k < f_; ++k) backups_[p * kMaxBackups + k] = nodes_[(p + 1 + k) % nodes_.size()];
}

int RegionMap::position(NodeId n) const {
  return n < position_.size() ? position_[n] : -1;
}

bool RegionMap::is_data_region(RegionId r) const {
  const uint32_t local = r & 0xffff;
  return position(region_owner(r)) >= 0 && local >= 1 && local <= per_node_;
}

std::span<const NodeId> RegionMap::backups(RegionId r) const {
  const int p = position(region_owner(r));
  if (p < 0) return {};
  return {backups_.data() + static_cast<size_t>(p) * kMaxBackups, f_};
}

RegionId RegionMap::replica_region(NodeId backup, RegionId r) const {
  const uint32_t p = static_cast<uint32_t>(position(region_owner(r)));
  const uint32_t i = (r & 0xffff) - 1;
  return region_id(backup, kReplicaBase + p * per_node_ + i);
}

std::vector<RegionMap::Replica> RegionMap::replicas_on(NodeId node) const {
  std::vector<Replica> out;
  for (NodeId primary : nodes_) {
    for (uint32_t i = 0; i < per_node_; ++i) {
      const RegionId r = region_id(primary, 1 + i);
      for (NodeId b : backups(r))
        if (b == node) out.push_back({r, replica_region(node, r)});
    }
  }
  return out;
}

}  // namespace remora
