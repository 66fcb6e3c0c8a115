#include "fabric/loopback/loopback_network.h"

#include <unistd.h>

#include <sys/mman.h>

#include <fmt/format.h>

namespace remora {

std::shared_ptr<LoopbackNetwork> LoopbackNetwork::create() {
  return std::shared_ptr<LoopbackNetwork>(new LoopbackNetwork());
}

LoopbackNetwork::~LoopbackNetwork() {
  for (auto& [id, m] : regions_) munmap(m.data, m.size);
}

LoopbackNetwork::NodeState& LoopbackNetwork::node_locked(NodeId node) {
  auto& slot = nodes_[node];
  if (!slot) slot = std::make_unique<NodeState>();
  return *slot;
}

LoopbackFaults* LoopbackNetwork::faults(NodeId node) {
  std::lock_guard lock(mu_);
  return &node_locked(node).faults;
}

void LoopbackNetwork::drop_next_writes(NodeId target, uint32_t count) {
  faults(target)->drop_writes.store(count);
}

void LoopbackNetwork::corrupt_next_write(NodeId target, uint32_t offset_in_write) {
  LoopbackFaults* f = faults(target);
  f->corrupt_offset.store(offset_in_write);
  f->corrupt_writes.store(1);
}

void LoopbackNetwork::delay_completions(NodeId target, uint32_t polls) {
  faults(target)->delay_polls.store(polls);
}

void LoopbackNetwork::clear_faults(NodeId target) {
  LoopbackFaults* f = faults(target);
  f->drop_writes.store(0);
  f->corrupt_writes.store(0);
  f->delay_polls.store(0);
}

void LoopbackNetwork::set_doorbell(NodeId node, uint32_t index, int fd) {
  std::lock_guard lock(mu_);
  if (fd < 0) doorbells_.erase({node, index});
  else doorbells_[{node, index}] = fd;
}

bool LoopbackNetwork::ring(NodeId node, uint32_t index) {
  std::lock_guard lock(mu_);
  auto it = doorbells_.find({node, index});
  if (it == doorbells_.end()) return false;
  const uint64_t one = 1;
  return ::write(it->second, &one, sizeof(one)) == sizeof(one);
}

Status LoopbackNetwork::attach(NodeId node) {
  std::lock_guard lock(mu_);
  NodeState& n = node_locked(node);
  if (n.attached)
    return Status::InvalidArgument(fmt::format("node {} already has a loopback fabric", node));
  n.attached = true;
  return Status::OK();
}

void LoopbackNetwork::detach(NodeId node) {
  std::lock_guard lock(mu_);
  node_locked(node).attached = false;
}

bool LoopbackNetwork::attached(NodeId node) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second->attached;
}

Result<std::byte*> LoopbackNetwork::allocate(RegionId id, uint64_t size) {
  std::lock_guard lock(mu_);
  if (regions_.count(id)) return Status::InvalidArgument(fmt::format("region {} exists", id));
  // Anonymous mappings are zeroed, page aligned and only backed when touched.
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return Status::IoError(fmt::format("mmap of {} bytes for region {} failed", size, id));
  regions_[id] = Mapping{static_cast<std::byte*>(p), size};
  return static_cast<std::byte*>(p);
}

std::byte* LoopbackNetwork::find(RegionId id, uint64_t size) const {
  std::lock_guard lock(mu_);
  auto it = regions_.find(id);
  if (it == regions_.end() || it->second.size != size) return nullptr;
  return it->second.data;
}

void LoopbackNetwork::for_each_region(
    const std::function<void(RegionId, std::span<const std::byte>)>& fn) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, m] : regions_) fn(id, {m.data, m.size});
}

}  // namespace remora
