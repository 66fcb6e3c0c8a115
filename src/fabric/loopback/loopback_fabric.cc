#include "fabric/loopback/loopback_fabric.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

#include "fabric/loopback/loopback_channel.h"

namespace remora {
namespace {

// local_info() wire format: a header, then one entry per region.
constexpr uint32_t kInfoMagic = 0x4b424c52;  // "RLBK"
constexpr uint16_t kInfoVersion = 1;

struct InfoHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t node;
  uint32_t count;
  uint32_t reserved;
};
struct InfoRegion {
  uint32_t id;
  uint32_t reserved;
  uint64_t size;
};
static_assert(sizeof(InfoHeader) == 16 && std::is_trivially_copyable_v<InfoHeader>);
static_assert(sizeof(InfoRegion) == 16 && std::is_trivially_copyable_v<InfoRegion>);

}  // namespace

LoopbackFabric::LoopbackFabric(std::shared_ptr<LoopbackNetwork> net, NodeId self)
    : net_(std::move(net)), self_(self) {}

Result<std::unique_ptr<LoopbackFabric>> LoopbackFabric::create(std::shared_ptr<LoopbackNetwork> net,
                                                               NodeId self) {
  if (!net) return Status::InvalidArgument("loopback fabric needs a network");
  if (self == kInvalidNode) return Status::InvalidArgument("invalid node id");
  REMORA_RETURN_IF_ERROR(net->attach(self));
  return std::unique_ptr<LoopbackFabric>(new LoopbackFabric(std::move(net), self));
}

LoopbackFabric::~LoopbackFabric() { net_->detach(self_); }

std::string LoopbackFabric::name() const { return fmt::format("loopback(node={})", self_); }

Result<LocalRegion*> LoopbackFabric::register_region(RegionId id, uint64_t size) {
  if (size == 0 || size > kMaxRegionSize)
    return Status::InvalidArgument(fmt::format("region {} size {} not in (0, 2 GiB]", id, size));
  if (region_owner(id) != self_)
    return Status::InvalidArgument(
        fmt::format("region {} belongs to node {}, not {}", id, region_owner(id), self_));
  std::lock_guard lock(mu_);
  if (regions_.count(id)) return Status::InvalidArgument(fmt::format("region {} exists", id));
  Result<std::byte*> mem = net_->allocate(id, size);
  if (!mem.ok()) return mem.status();
  auto region = std::make_unique<LocalRegion>(LocalRegion{id, *mem, size});
  LocalRegion* out = region.get();
  regions_[id] = std::move(region);
  return out;
}

const LocalRegion* LoopbackFabric::local_region(RegionId id) const {
  std::lock_guard lock(mu_);
  auto it = regions_.find(id);
  return it == regions_.end() ? nullptr : it->second.get();
}

Result<std::unique_ptr<Channel>> LoopbackFabric::create_channel(uint32_t index) {
  std::lock_guard lock(mu_);
  if (std::find(channels_.begin(), channels_.end(), index) != channels_.end())
    return Status::InvalidArgument(fmt::format("channel {} already created", index));
  channels_.push_back(index);
  return std::unique_ptr<Channel>(new LoopbackChannel(*this, index));
}

Result<std::vector<uint8_t>> LoopbackFabric::local_info() {
  std::lock_guard lock(mu_);
  InfoHeader h{kInfoMagic, kInfoVersion, self_, static_cast<uint32_t>(regions_.size()), 0};
  std::vector<uint8_t> out(sizeof(h) + regions_.size() * sizeof(InfoRegion));
  std::memcpy(out.data(), &h, sizeof(h));
  size_t pos = sizeof(h);
  for (const auto& [id, r] : regions_) {
    InfoRegion e{id, 0, r->size};
    std::memcpy(out.data() + pos, &e, sizeof(e));
    pos += sizeof(e);
  }
  return out;
}

Result<LoopbackFabric::Peer> LoopbackFabric::parse_peer_info(NodeId peer,
                                                             std::span<const uint8_t> info) const {
  InfoHeader h;
  if (info.size() < sizeof(h))
    return Status::InvalidArgument(fmt::format("peer info of {} bytes is truncated", info.size()));
  std::memcpy(&h, info.data(), sizeof(h));
  if (h.magic != kInfoMagic || h.version != kInfoVersion)
    return Status::InvalidArgument("peer info is not loopback v1 info");
  if (h.node != peer)
    return Status::InvalidArgument(fmt::format("peer info is for node {}, not {}", h.node, peer));
  if (info.size() != sizeof(h) + uint64_t{h.count} * sizeof(InfoRegion))
    return Status::InvalidArgument(
        fmt::format("peer info size {} does not match {} regions", info.size(), h.count));
  Peer p;
  p.faults = net_->faults(peer);
  for (uint32_t i = 0; i < h.count; ++i) {
    InfoRegion e;
    std::memcpy(&e, info.data() + sizeof(h) + i * sizeof(e), sizeof(e));
    std::byte* data = net_->find(e.id, e.size);
    bool dup = std::any_of(p.regions.begin(), p.regions.end(),
                           [&](const PeerRegion& r) { return r.id == e.id; });
    if (region_owner(e.id) != peer || data == nullptr || dup)
      return Status::InvalidArgument(
          fmt::format("peer info entry {} (region {}, {} bytes) is not a region of node {}", i,
                      e.id, e.size, peer));
    p.regions.push_back(PeerRegion{e.id, e.size, data});
  }
  return p;
}

Status LoopbackFabric::add_peer(NodeId peer, std::span<const uint8_t> info) {
  Result<Peer> parsed = parse_peer_info(peer, info);
  if (!parsed.ok()) return parsed.status().with_context(fmt::format("add_peer({})", peer));
  std::lock_guard lock(mu_);
  peers_[peer] = std::move(parsed.value());
  return Status::OK();
}

std::vector<RegionInfo> LoopbackFabric::peer_regions(NodeId peer) const {
  std::lock_guard lock(mu_);
  std::vector<RegionInfo> out;
  auto it = peers_.find(peer);
  if (it == peers_.end()) return out;
  for (const PeerRegion& r : it->second.regions) out.push_back(RegionInfo{r.id, r.size});
  return out;
}

void LoopbackFabric::mark_peer_gone(NodeId peer, const std::string& why) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.gone) return;
  it->second.gone = true;
  it->second.why = why;
}

bool LoopbackFabric::peer_alive_locked(NodeId peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && !it->second.gone && net_->attached(peer);
}

bool LoopbackFabric::peer_alive(NodeId peer) const {
  std::lock_guard lock(mu_);
  return peer_alive_locked(peer);
}

Status LoopbackFabric::check_remote(const WorkRequest& wr, const Peer& p,
                                    std::byte** remote) const {
  for (const PeerRegion& r : p.regions) {
    if (r.id != wr.remote.region()) continue;
    if (uint64_t{wr.remote.offset()} + wr.length > r.size)
      return Status::OutOfRange(fmt::format("{} + {} bytes is beyond region {} of size {}",
                                            wr.remote.to_string(), wr.length, r.id, r.size));
    *remote = r.data + wr.remote.offset();
    return Status::OK();
  }
  return Status::OutOfRange(fmt::format("{} is in no region of node {}", wr.remote.to_string(),
                                        wr.peer));
}

Status LoopbackFabric::check_local(const WorkRequest& wr) const {
  for (const auto& [id, r] : regions_)
    if (r->contains(wr.local, wr.length)) return Status::OK();
  return Status::OutOfRange(fmt::format("local buffer {} + {} bytes is in no registered region",
                                        wr.local, wr.length));
}

Status LoopbackFabric::resolve(const WorkRequest& wr, size_t pos, Resolved* out) const {
  auto fail = [&](const Status& s) {
    return s.with_context(fmt::format("request {} ({} to node {})", pos, op_name(wr.op), wr.peer));
  };
  bool atomic = wr.op == Op::kCas || wr.op == Op::kFaa;
  if (atomic && (wr.length != 8 || wr.remote.offset() % 8 != 0))
    return fail(Status::InvalidArgument(fmt::format(
        "atomics need length 8 and an 8-byte aligned address, got {} at {}", wr.length,
        wr.remote.to_string())));
  if (wr.length == 0) return fail(Status::InvalidArgument("zero-length operation"));
  std::lock_guard lock(mu_);
  auto it = peers_.find(wr.peer);
  if (it == peers_.end()) return fail(Status::NotFound("unknown peer"));
  if (!peer_alive_locked(wr.peer))
    return fail(Status::PeerGone(it->second.gone ? it->second.why : "peer fabric is gone"));
  out->wr = wr;
  out->faults = it->second.faults;
  Status s = check_remote(wr, it->second, &out->remote);
  if (s.ok()) s = check_local(wr);
  return s.ok() ? s : fail(s);
}

std::atomic<uint64_t>* LoopbackFabric::peer_word(NodeId peer, GAddr addr) const {
  std::lock_guard lock(mu_);
  auto it = peers_.find(peer);
  if (it == peers_.end() || addr.offset() % 8 != 0) return nullptr;
  const WorkRequest wr{Op::kRead, peer, addr, nullptr, 8, 0, 0, 0};
  std::byte* p = nullptr;
  if (!check_remote(wr, it->second, &p).ok()) return nullptr;
  return reinterpret_cast<std::atomic<uint64_t>*>(p);
}

}  // namespace remora
