// VerbsFabric control path: device, port, GID, memory registration, peer
// blobs. See verbs_fabric.h for the connection model.
#include "fabric/verbs/verbs_fabric.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "fabric/verbs/verbs_channel.h"

namespace remora {
namespace {

constexpr NodeId kMaxNodeIds = 4096;
constexpr uint64_t kHugePage = 2ull << 20;

uint32_t max_nodes_from_env() {
  const char* env = std::getenv("REMORA_VERBS_MAX_NODES");
  if (!env) return VerbsFabric::kDefaultMaxNodes;
  const long v = std::strtol(env, nullptr, 10);
  return v >= 1 && v <= static_cast<long>(verbs::kMaxBlobNodes) ? static_cast<uint32_t>(v)
                                                                 : VerbsFabric::kDefaultMaxNodes;
}

}  // namespace

Result<std::unique_ptr<Fabric>> VerbsFabric::create(const FabricOptions& opts) {
  std::unique_ptr<VerbsFabric> f(new VerbsFabric(opts));
  REMORA_RETURN_IF_ERROR(f->init());
  return std::unique_ptr<Fabric>(std::move(f));
}

Status VerbsFabric::init() {
  peers_.resize(kMaxNodeIds);
  max_nodes_ = max_nodes_from_env();
  if (opts_.self >= max_nodes_)
    return Status::InvalidArgument(fmt::format(
        "node id {} >= verbs node table size {} (set REMORA_VERBS_MAX_NODES)", opts_.self, max_nodes_));
  REMORA_RETURN_IF_ERROR(open_device());
  REMORA_RETURN_IF_ERROR(query_port());
  REMORA_RETURN_IF_ERROR(choose_gid());
  pd_ = ibv_alloc_pd(ctx_);
  if (!pd_) return verbs_errno(errno ? errno : ENOMEM, "ibv_alloc_pd on " + device_);
  return Status::OK();
}

Status VerbsFabric::open_device() {
  int n = 0;
  ibv_device** list = ibv_get_device_list(&n);
  if (!list) return verbs_errno(errno ? errno : ENODEV, "ibv_get_device_list");
  ibv_device* dev = nullptr;
  for (int i = 0; i < n && !dev; ++i)
    if (opts_.verbs_device.empty() || opts_.verbs_device == ibv_get_device_name(list[i])) dev = list[i];
  if (dev) {
    device_ = ibv_get_device_name(dev);
    ctx_ = ibv_open_device(dev);
  }
  const int err = errno;
  ibv_free_device_list(list);
  if (!dev)
    return Status::NotFound(n == 0 ? std::string("no RDMA device (libibverbs sees none)")
                                   : fmt::format("RDMA device \"{}\" not found", opts_.verbs_device));
  if (!ctx_) return verbs_errno(err ? err : ENODEV, "ibv_open_device " + device_);
  return Status::OK();
}

Status VerbsFabric::query_port() {
  ibv_device_attr da{};
  REMORA_RETURN_IF_ERROR(verbs_errno(ibv_query_device(ctx_, &da), "ibv_query_device " + device_));
  if (opts_.verbs_port < 1 || opts_.verbs_port > da.phys_port_cnt)
    return Status::InvalidArgument(fmt::format("{} has no port {}", device_, opts_.verbs_port));
  if (da.atomic_cap == IBV_ATOMIC_NONE)
    return Status::Unavailable(fmt::format("{} does not support atomics", device_));
  max_rd_atomic_ = static_cast<uint8_t>(std::clamp(da.max_qp_rd_atom, 1, 16));
  ibv_port_attr pa{};
  REMORA_RETURN_IF_ERROR(verbs_errno(ibv_query_port(ctx_, port(), &pa), "ibv_query_port " + device_));
  if (pa.state != IBV_PORT_ACTIVE)
    return Status::Unavailable(fmt::format("{} port {} is {}", device_, opts_.verbs_port, ibv_port_state_str(pa.state)));
  mtu_ = static_cast<uint8_t>(pa.active_mtu);
  lid_ = pa.lid;
  ethernet_ = pa.link_layer == IBV_LINK_LAYER_ETHERNET;
  return Status::OK();
}

Status VerbsFabric::choose_gid() {
  std::vector<ibv_gid_entry> raw(256);
  const ssize_t n = ibv_query_gid_table(ctx_, raw.data(), raw.size(), 0);
  if (n < 0) return verbs_errno(static_cast<int>(-n), "ibv_query_gid_table " + device_);
  std::vector<verbs::GidEntry> table;
  for (ssize_t i = 0; i < n; ++i) {
    if (raw[i].port_num != port()) continue;
    verbs::GidEntry e;
    e.index = static_cast<int>(raw[i].gid_index);
    std::copy(std::begin(raw[i].gid.raw), std::end(raw[i].gid.raw), e.gid.begin());
    e.roce_v2 = raw[i].gid_type == IBV_GID_TYPE_ROCE_V2;
    table.push_back(e);
  }
  auto idx = verbs::select_gid_index(table, opts_.verbs_gid_index);
  if (!idx.ok()) return idx.status().with_context(fmt::format("{} port {}", device_, opts_.verbs_port));
  gid_index_ = *idx;
  for (const auto& e : table)
    if (e.index == gid_index_) gid_ = e.gid;
  return Status::OK();
}

VerbsFabric::~VerbsFabric() {
  for (VerbsRegion& r : regions_) {
    if (r.mr) ibv_dereg_mr(r.mr);
    if (r.map) munmap(r.map, r.map_len);
  }
  if (pd_) ibv_dealloc_pd(pd_);
  if (ctx_) ibv_close_device(ctx_);
}

// Huge pages when the system has some free, else ordinary pages; both come
// zeroed from the kernel.
Status VerbsFabric::map_memory(uint64_t size, VerbsRegion* r) {
  const uint64_t huge_len = (size + kHugePage - 1) & ~(kHugePage - 1);
  void* p = mmap(nullptr, huge_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
  if (p != MAP_FAILED) {
    *r = VerbsRegion{{}, nullptr, p, huge_len, true};
    return Status::OK();
  }
  p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return verbs_errno(errno, fmt::format("mmap {} bytes", size));
  *r = VerbsRegion{{}, nullptr, p, size, false};
  return Status::OK();
}

Result<LocalRegion*> VerbsFabric::register_region(RegionId id, uint64_t size) {
  if (size == 0 || size > kMaxRegionSize)
    return Status::InvalidArgument(fmt::format("region {} size {} not in (0, 2 GiB]", id, size));
  if (local_region(id)) return Status::InvalidArgument(fmt::format("region {} exists", id));
  VerbsRegion r;
  REMORA_RETURN_IF_ERROR(map_memory(size, &r));
  const int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
                     IBV_ACCESS_REMOTE_ATOMIC;
  r.mr = ibv_reg_mr(pd_, r.map, size, access);
  if (!r.mr) {
    const int err = errno;
    munmap(r.map, r.map_len);
    return verbs_errno(err ? err : ENOMEM, fmt::format("ibv_reg_mr region {} ({} bytes)", id, size));
  }
  r.region = LocalRegion{id, static_cast<std::byte*>(r.map), size};
  regions_.push_back(r);
  return &regions_.back().region;
}

const LocalRegion* VerbsFabric::local_region(RegionId id) const {
  for (const VerbsRegion& r : regions_)
    if (r.region.id == id) return &r.region;
  return nullptr;
}

Result<std::unique_ptr<Channel>> VerbsFabric::create_channel(uint32_t index) {
  for (VerbsChannel* c : channels_)
    if (c->index() == index) return Status::InvalidArgument(fmt::format("channel {} exists", index));
  auto ch = VerbsChannel::create(this, index);
  if (!ch.ok()) return ch.status();
  channels_.push_back(ch->get());
  return std::unique_ptr<Channel>(std::move(*ch));
}

void VerbsFabric::channel_closed(VerbsChannel* ch) {
  channels_.erase(std::remove(channels_.begin(), channels_.end(), ch), channels_.end());
}

Result<std::vector<uint8_t>> VerbsFabric::local_info() {
  if (channels_.empty()) return Status::InvalidArgument("local_info before any channel exists");
  std::vector<VerbsChannel*> chans = channels_;
  std::sort(chans.begin(), chans.end(), [](VerbsChannel* a, VerbsChannel* b) { return a->index() < b->index(); });
  for (size_t i = 0; i < chans.size(); ++i)
    if (chans[i]->index() != i) return Status::InvalidArgument("channel indexes must be 0..n-1");
  verbs::PeerInfo p;
  p.node = opts_.self;
  p.lid = lid_;
  p.gid = gid_;
  p.mtu = mtu_;
  p.max_nodes = max_nodes_;
  for (VerbsChannel* c : chans) p.channels.push_back(c->wire());
  for (const VerbsRegion& r : regions_)
    p.regions.push_back({r.region.id, reinterpret_cast<uint64_t>(r.map), r.region.size, r.mr->rkey});
  return verbs::encode_peer_info(p);
}

Status VerbsFabric::add_peer(NodeId peer, std::span<const uint8_t> info) {
  if (peer >= max_nodes_)
    return Status::InvalidArgument(fmt::format("peer id {} >= verbs node table size {}", peer, max_nodes_));
  if (peers_[peer]) return Status::InvalidArgument(fmt::format("peer {} already added", peer));
  auto decoded = verbs::decode_peer_info(peer, info);
  if (!decoded.ok()) return decoded.status();
  if (opts_.self >= decoded->max_nodes)
    return Status::InvalidArgument(fmt::format("node {} has no QP for us (its table holds {} nodes)", peer,
                                               decoded->max_nodes));
  if (decoded->channels.size() != channels_.size())
    return Status::InvalidArgument(fmt::format("node {} has {} channels, we have {} (verbs pairs them 1:1)",
                                               peer, decoded->channels.size(), channels_.size()));
  auto p = std::make_unique<VerbsPeer>();
  p->info = std::move(*decoded);
  for (VerbsChannel* c : channels_)
    REMORA_RETURN_IF_ERROR(c->connect(*p).with_context(fmt::format("connect to node {}", peer)));
  peers_[peer] = std::move(p);
  for (VerbsChannel* c : channels_) c->attach(*peers_[peer]);
  peers_[peer]->alive.store(true, std::memory_order_release);
  return Status::OK();
}

std::vector<RegionInfo> VerbsFabric::peer_regions(NodeId peer) const {
  std::vector<RegionInfo> out;
  if (const VerbsPeer* p = this->peer(peer))
    for (const auto& r : p->info.regions) out.push_back({r.id, r.size});
  return out;
}

void VerbsFabric::mark_peer_gone(NodeId peer, const std::string& why) {
  std::lock_guard<std::mutex> g(gone_mu_);
  if (peer >= peers_.size() || !peers_[peer]) return;
  VerbsPeer& p = *peers_[peer];
  if (!p.alive.load(std::memory_order_acquire)) return;
  p.gone_reason = why;
  p.alive.store(false, std::memory_order_release);
  gone_gen_.fetch_add(1, std::memory_order_acq_rel);
}

bool VerbsFabric::peer_alive(NodeId peer) const {
  const VerbsPeer* p = this->peer(peer);
  return p && p->alive.load(std::memory_order_acquire);
}

std::string VerbsFabric::name() const {
  return fmt::format("verbs(device={}, port={}, gid_index={}, mtu={})", device_, opts_.verbs_port, gid_index_,
                     verbs::mtu_bytes(mtu_));
}

}  // namespace remora
