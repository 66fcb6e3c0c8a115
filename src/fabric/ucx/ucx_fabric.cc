#include "fabric/ucx/ucx_fabric.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/codec.h"
#include "fabric/ucx/ucx_channel.h"

namespace remora {
namespace {

constexpr uint32_t kInfoMagic = 0x58554d52;  // "RMUX"
constexpr uint16_t kInfoVersion = 1;
constexpr uint32_t kMaxChannels = 1024;
constexpr uint32_t kMaxRegions = 65536;
constexpr uint32_t kMaxBlob = 64 * 1024;
constexpr NodeId kMaxNodes = 4096;

}  // namespace

Result<std::unique_ptr<Fabric>> UcxFabric::create(const FabricOptions& opts) {
  std::unique_ptr<UcxFabric> f(new UcxFabric(opts));
  REMORA_RETURN_IF_ERROR(f->init());
  return std::unique_ptr<Fabric>(std::move(f));
}

Status UcxFabric::init() {
  peers_.resize(kMaxNodes);  // never resized again: readers need no lock
  ucp_config_t* cfg = nullptr;
  REMORA_RETURN_IF_ERROR(ucx_status(ucp_config_read(nullptr, nullptr, &cfg), "ucp_config_read"));
  tls_ = opts_.ucx_tls;
  if (tls_.empty()) {
    const char* env = std::getenv("UCX_TLS");
    tls_ = env ? env : "default";
  } else {
    Status st = ucx_status(ucp_config_modify(cfg, "TLS", tls_.c_str()), "UCX_TLS=" + tls_);
    if (!st.ok()) {
      ucp_config_release(cfg);
      return st;
    }
  }
  peer_err_ = tls_ == "tcp";
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED;
  params.features = UCP_FEATURE_RMA | UCP_FEATURE_AMO64 | UCP_FEATURE_WAKEUP | UCP_FEATURE_AM;
  params.mt_workers_shared = 0;
  ucs_status_t s = ucp_init(&params, cfg, &ctx_);
  ucp_config_release(cfg);
  return ucx_status(s, "ucp_init (tls=" + tls_ + ")");
}

UcxFabric::~UcxFabric() {
  for (ucp_mem_h m : memhs_) ucp_mem_unmap(ctx_, m);
  if (ctx_) ucp_cleanup(ctx_);
}

Result<LocalRegion*> UcxFabric::register_region(RegionId id, uint64_t size) {
  if (size == 0 || size > kMaxRegionSize)
    return Status::InvalidArgument(fmt::format("region {} size {} not in (0, 2 GiB]", id, size));
  if (local_region(id)) return Status::InvalidArgument(fmt::format("region {} exists", id));
  ucp_mem_map_params_t mp{};
  mp.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH |
                  UCP_MEM_MAP_PARAM_FIELD_FLAGS;
  mp.address = nullptr;
  mp.length = size;
  mp.flags = UCP_MEM_MAP_ALLOCATE;
  ucp_mem_h memh = nullptr;
  REMORA_RETURN_IF_ERROR(ucx_status(ucp_mem_map(ctx_, &mp, &memh), "ucp_mem_map"));
  ucp_mem_attr_t attr{};
  attr.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS | UCP_MEM_ATTR_FIELD_LENGTH;
  Status st = ucx_status(ucp_mem_query(memh, &attr), "ucp_mem_query");
  if (!st.ok()) {
    ucp_mem_unmap(ctx_, memh);
    return st;
  }
  std::memset(attr.address, 0, size);
  memhs_.push_back(memh);
  regions_.push_back(LocalRegion{id, static_cast<std::byte*>(attr.address), size});
  return &regions_.back();
}

const LocalRegion* UcxFabric::local_region(RegionId id) const {
  for (const LocalRegion& r : regions_)
    if (r.id == id) return &r;
  return nullptr;
}

Result<std::unique_ptr<Channel>> UcxFabric::create_channel(uint32_t index) {
  for (UcxChannel* c : channels_)
    if (c->index() == index) return Status::InvalidArgument(fmt::format("channel {} exists", index));
  auto ch = UcxChannel::create(this, index);
  if (!ch.ok()) return ch.status();
  channels_.push_back(ch->get());
  return std::unique_ptr<Channel>(std::move(*ch));
}

void UcxFabric::channel_closed(UcxChannel* ch) {
  channels_.erase(std::remove(channels_.begin(), channels_.end(), ch), channels_.end());
}

Result<std::vector<uint8_t>> UcxFabric::local_info() {
  if (channels_.empty()) return Status::InvalidArgument("local_info before any channel exists");
  std::vector<UcxChannel*> chans = channels_;
  std::sort(chans.begin(), chans.end(),
            [](UcxChannel* a, UcxChannel* b) { return a->index() < b->index(); });
  Encoder e;
  e.put<uint32_t>(kInfoMagic);
  e.put<uint16_t>(kInfoVersion);
  e.put<uint16_t>(opts_.self);
  e.put<uint32_t>(static_cast<uint32_t>(chans.size()));
  for (UcxChannel* c : chans) {
    auto addr = c->address();
    if (!addr.ok()) return addr.status();
    e.put_bytes(*addr);
  }
  e.put<uint32_t>(static_cast<uint32_t>(regions_.size()));
  for (size_t i = 0; i < regions_.size(); ++i) {
    void* buf = nullptr;
    size_t len = 0;
    REMORA_RETURN_IF_ERROR(ucx_status(ucp_rkey_pack(ctx_, memhs_[i], &buf, &len), "ucp_rkey_pack"));
    e.put<uint32_t>(regions_[i].id);
    e.put<uint64_t>(reinterpret_cast<uint64_t>(regions_[i].data));
    e.put<uint64_t>(regions_[i].size);
    e.put_bytes({static_cast<const uint8_t*>(buf), len});
    ucp_rkey_buffer_release(buf);
  }
  return std::move(e.bytes());
}

Result<std::unique_ptr<UcxPeer>> UcxFabric::decode_peer(NodeId peer, std::span<const uint8_t> info) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("peer info from node {}: {}", peer, why));
  };
  Decoder d(info);
  uint32_t magic = 0, nchan = 0, nreg = 0;
  uint16_t version = 0, node = 0;
  if (!d.get(&magic) || magic != kInfoMagic) return bad("bad magic (not a UCX peer blob)");
  if (!d.get(&version) || version != kInfoVersion) return bad("unsupported version");
  if (!d.get(&node) || node != peer) return bad(fmt::format("claims to be node {}", node));
  if (!d.get(&nchan) || nchan == 0 || nchan > kMaxChannels) return bad("bad channel count");
  auto p = std::make_unique<UcxPeer>();
  p->id = peer;
  p->worker_addrs.resize(nchan);
  for (auto& a : p->worker_addrs)
    if (!d.get_bytes(&a, kMaxBlob) || a.empty()) return bad("truncated worker address");
  if (!d.get(&nreg) || nreg > kMaxRegions) return bad("bad region count");
  p->regions.resize(nreg);
  for (auto& r : p->regions) {
    if (!d.get(&r.id) || !d.get(&r.base) || !d.get(&r.size) || !d.get_bytes(&r.rkey, kMaxBlob))
      return bad("truncated region descriptor");
    if (r.size == 0 || r.size > kMaxRegionSize) return bad(fmt::format("region {} size {}", r.id, r.size));
  }
  if (!d.done()) return bad("trailing bytes");
  return p;
}

Status UcxFabric::add_peer(NodeId peer, std::span<const uint8_t> info) {
  if (peer >= kMaxNodes)
    return Status::InvalidArgument(fmt::format("bad peer id {}", peer));
  if (peer < peers_.size() && peers_[peer])
    return Status::InvalidArgument(fmt::format("peer {} already added", peer));
  auto p = decode_peer(peer, info);
  if (!p.ok()) return p.status();
  peers_[peer] = std::move(*p);
  for (UcxChannel* c : channels_)
    REMORA_RETURN_IF_ERROR(c->connect(*peers_[peer]).with_context(fmt::format("connect to node {}", peer)));
  peers_[peer]->alive.store(true, std::memory_order_release);
  return Status::OK();
}

std::vector<RegionInfo> UcxFabric::peer_regions(NodeId peer) const {
  std::vector<RegionInfo> out;
  if (const UcxPeer* p = this->peer(peer))
    for (const auto& r : p->regions) out.push_back({r.id, r.size});
  return out;
}

void UcxFabric::mark_peer_gone(NodeId peer, const std::string& why) {
  std::lock_guard<std::mutex> g(gone_mu_);
  if (peer >= peers_.size() || !peers_[peer]) return;
  UcxPeer& p = *peers_[peer];
  if (!p.alive.load(std::memory_order_acquire)) return;
  p.gone_reason = why;
  p.alive.store(false, std::memory_order_release);
  gone_gen_.fetch_add(1, std::memory_order_acq_rel);
}

bool UcxFabric::peer_alive(NodeId peer) const {
  const UcxPeer* p = this->peer(peer);
  return p && p->alive.load(std::memory_order_acquire);
}

std::string UcxFabric::name() const { return "ucx(tls=" + tls_ + ")"; }

}  // namespace remora
