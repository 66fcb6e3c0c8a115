#include <infiniband/verbs.h>

#include <fmt/format.h>

#include "remora/fabric/inventory.h"

namespace remora {
namespace {

std::string hex_gid(const ibv_gid& g) {
  std::string s;
  for (int i = 0; i < 16; i += 2) {
    if (i) s += ':';
    s += fmt::format("{:02x}{:02x}", g.raw[i], g.raw[i + 1]);
  }
  return s;
}

bool gid_is_zero(const ibv_gid& g) {
  for (uint8_t b : g.raw)
    if (b) return false;
  return true;
}

RdmaPort query_port(ibv_context* ctx, uint8_t port) {
  RdmaPort p;
  p.port = port;
  ibv_port_attr a{};
  if (ibv_query_port(ctx, port, &a) != 0) {
    p.state = "unknown (ibv_query_port failed)";
    return p;
  }
  p.state = ibv_port_state_str(a.state);
  p.active_mtu = a.active_mtu >= IBV_MTU_256 ? 128u << a.active_mtu : 0;
  p.link_layer = a.link_layer == IBV_LINK_LAYER_ETHERNET ? "Ethernet" : "InfiniBand";
  for (int i = 0; i < a.gid_tbl_len; ++i) {
    ibv_gid g{};
    if (ibv_query_gid(ctx, port, i, &g) == 0 && !gid_is_zero(g))
      p.gids.push_back(fmt::format("{}: {}", i, hex_gid(g)));
  }
  return p;
}

RdmaDevice query_device(ibv_device* dev) {
  RdmaDevice d;
  d.name = ibv_get_device_name(dev);
  d.node_guid = fmt::format("{:016x}", be64toh(ibv_get_device_guid(dev)));
  ibv_context* ctx = ibv_open_device(dev);
  if (!ctx) return d;
  ibv_device_attr attr{};
  if (ibv_query_device(ctx, &attr) == 0)
    for (uint8_t p = 1; p <= attr.phys_port_cnt; ++p) d.ports.push_back(query_port(ctx, p));
  ibv_close_device(ctx);
  return d;
}

}  // namespace

Result<std::vector<RdmaDevice>> rdma_inventory() {
  int n = 0;
  ibv_device** list = ibv_get_device_list(&n);
  std::vector<RdmaDevice> out;
  if (!list) return out;  // no verbs support at all: no devices
  for (int i = 0; i < n; ++i) out.push_back(query_device(list[i]));
  ibv_free_device_list(list);
  return out;
}

}  // namespace remora
