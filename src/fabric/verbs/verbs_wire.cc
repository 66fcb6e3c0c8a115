#include "fabric/verbs/verbs_wire.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/codec.h"

namespace remora::verbs {

std::vector<uint8_t> encode_peer_info(const PeerInfo& p) {
  Encoder e;
  e.put<uint32_t>(kInfoMagic);
  e.put<uint16_t>(kInfoVersion);
  e.put<uint16_t>(p.node);
  e.put<uint16_t>(p.lid);
  for (uint8_t b : p.gid) e.put<uint8_t>(b);
  e.put<uint8_t>(p.mtu);
  e.put<uint32_t>(static_cast<uint32_t>(p.channels.size()));
  e.put<uint32_t>(p.max_nodes);
  for (const WireChannel& c : p.channels) {
    e.put<uint32_t>(c.psn);
    for (uint32_t q : c.qpn) e.put<uint32_t>(q);
  }
  e.put<uint32_t>(static_cast<uint32_t>(p.regions.size()));
  for (const WireRegion& r : p.regions) {
    e.put<uint32_t>(r.id);
    e.put<uint64_t>(r.addr);
    e.put<uint64_t>(r.size);
    e.put<uint32_t>(r.rkey);
  }
  return std::move(e.bytes());
}

namespace {

bool decode_header(Decoder& d, PeerInfo* p, uint32_t* nchan) {
  for (uint8_t& b : p->gid)
    if (!d.get(&b)) return false;
  return d.get(&p->mtu) && d.get(nchan) && d.get(&p->max_nodes);
}

Status decode_channels(Decoder& d, uint32_t nchan, PeerInfo* p) {
  p->channels.resize(nchan);
  for (WireChannel& c : p->channels) {
    if (!d.get(&c.psn)) return Status::InvalidArgument("truncated channel table");
    if (c.psn > 0xffffff) return Status::InvalidArgument(fmt::format("PSN {:#x} exceeds 24 bits", c.psn));
    c.qpn.resize(p->max_nodes);
    for (uint32_t& q : c.qpn) {
      if (!d.get(&q)) return Status::InvalidArgument("truncated QP table");
      if (q == 0 || q > 0xffffff) return Status::InvalidArgument(fmt::format("bad QP number {:#x}", q));
    }
  }
  return Status::OK();
}

Status decode_regions(Decoder& d, PeerInfo* p) {
  uint32_t nreg = 0;
  if (!d.get(&nreg) || nreg > kMaxRegions) return Status::InvalidArgument("bad region count");
  p->regions.resize(nreg);
  std::set<RegionId> ids;
  for (WireRegion& r : p->regions) {
    if (!d.get(&r.id) || !d.get(&r.addr) || !d.get(&r.size) || !d.get(&r.rkey))
      return Status::InvalidArgument("truncated region descriptor");
    if (r.size == 0 || r.size > kMaxRegionSize)
      return Status::InvalidArgument(fmt::format("region {} size {}", r.id, r.size));
    if (r.addr + r.size < r.addr) return Status::InvalidArgument(fmt::format("region {} wraps", r.id));
    if (!ids.insert(r.id).second) return Status::InvalidArgument(fmt::format("region {} twice", r.id));
  }
  return Status::OK();
}

}  // namespace

Result<PeerInfo> decode_peer_info(NodeId expected_node, std::span<const uint8_t> blob) {
  auto bad = [&](const Status& why) {
    return Status::InvalidArgument(fmt::format("verbs peer info from node {}: {}", expected_node, why.message()));
  };
  Decoder d(blob);
  uint32_t magic = 0, nchan = 0;
  uint16_t version = 0;
  PeerInfo p;
  if (!d.get(&magic) || magic != kInfoMagic) return bad(Status::InvalidArgument("bad magic (not a verbs peer blob)"));
  if (!d.get(&version) || version != kInfoVersion) return bad(Status::InvalidArgument("unsupported version"));
  if (!d.get(&p.node) || p.node != expected_node)
    return bad(Status::InvalidArgument(fmt::format("claims to be node {}", p.node)));
  if (!d.get(&p.lid) || !decode_header(d, &p, &nchan)) return bad(Status::InvalidArgument("truncated header"));
  if (p.mtu < 1 || p.mtu > 5) return bad(Status::InvalidArgument(fmt::format("bad MTU enum {}", p.mtu)));
  if (nchan == 0 || nchan > kMaxChannels) return bad(Status::InvalidArgument("bad channel count"));
  if (p.max_nodes == 0 || p.max_nodes > kMaxBlobNodes) return bad(Status::InvalidArgument("bad node table size"));
  if (Status st = decode_channels(d, nchan, &p); !st.ok()) return bad(st);
  if (Status st = decode_regions(d, &p); !st.ok()) return bad(st);
  if (!d.done()) return bad(Status::InvalidArgument("trailing bytes"));
  return p;
}

bool gid_is_zero(const Gid& g) {
  return std::all_of(g.begin(), g.end(), [](uint8_t b) { return b == 0; });
}

bool gid_is_ipv4_mapped(const Gid& g) {
  for (int i = 0; i < 10; ++i)
    if (g[i] != 0) return false;
  return g[10] == 0xff && g[11] == 0xff;
}

Result<int> select_gid_index(std::span<const GidEntry> table, int configured) {
  if (configured >= 0) {
    for (const GidEntry& e : table)
      if (e.index == configured && !gid_is_zero(e.gid)) return configured;
    return Status::NotFound(fmt::format("configured gid_index {} is empty or not in the GID table", configured));
  }
  for (const GidEntry& e : table)
    if (e.roce_v2 && gid_is_ipv4_mapped(e.gid)) return e.index;
  for (const GidEntry& e : table)
    if (gid_is_ipv4_mapped(e.gid)) return e.index;
  for (const GidEntry& e : table)
    if (!gid_is_zero(e.gid)) return e.index;
  return Status::NotFound("the port's GID table has no usable entry (no IPv4 address on the netdev?)");
}

uint8_t path_mtu(uint8_t local_mtu, uint8_t remote_mtu) { return std::min(local_mtu, remote_mtu); }

}  // namespace remora::verbs
