// remora info: what UCX and libibverbs see on this machine, and a config.
#include <fmt/format.h>

#include "cli/commands.h"
#include "remora/cluster/config.h"
#include "remora/common/json.h"
#include "remora/fabric/inventory.h"

namespace remora::cli {
namespace {

void print_ucx(const UcxInventory& u, bool json) {
  if (json) {
    for (const auto& t : u.transports)
      fmt::print("{{\"kind\":\"ucx_transport\",\"version\":{},\"component\":{},\"md\":{},\"tl\":{},"
                 "\"device\":{},\"type\":{}}}\n",
                 json_string(u.version), json_string(t.component), json_string(t.md), json_string(t.tl),
                 json_string(t.device), json_string(t.type));
    return;
  }
  fmt::print("UCX {}\n  {:<10} {:<14} {:<14} {:<6}\n", u.version, "transport", "device", "memory domain", "type");
  for (const auto& t : u.transports) fmt::print("  {:<10} {:<14} {:<14} {:<6}\n", t.tl, t.device, t.md, t.type);
}

void print_rdma(const std::vector<RdmaDevice>& devs, bool json) {
  if (!json && devs.empty())
    fmt::print("RDMA devices: none (libibverbs sees no device; use UCX, or Soft-RoCE: "
               "`rdma link add rxe0 type rxe netdev <if>`)\n");
  for (const auto& d : devs) {
    if (!json) fmt::print("RDMA device {} (node GUID {})\n", d.name, d.node_guid);
    for (const auto& p : d.ports) {
      if (json) {
        std::string gids;
        for (const auto& g : p.gids) gids += (gids.empty() ? "" : ",") + json_string(g);
        fmt::print("{{\"kind\":\"rdma_port\",\"device\":{},\"port\":{},\"state\":{},\"active_mtu\":{},"
                   "\"link_layer\":{},\"gids\":[{}]}}\n",
                   json_string(d.name), p.port, json_string(p.state), p.active_mtu, json_string(p.link_layer),
                   gids);
        continue;
      }
      fmt::print("  port {}: {}, {}, active MTU {}\n", p.port, p.state, p.link_layer, p.active_mtu);
      for (const auto& g : p.gids) fmt::print("    gid {}\n", g);
    }
  }
}

void print_config(const Config& c, bool json) {
  if (json) {
    for (const auto& n : c.nodes)
      fmt::print("{{\"kind\":\"node\",\"config\":{},\"cluster_id\":{},\"id\":{},\"host\":{},\"port\":{}}}\n",
                 json_string(c.source), json_string(c.cluster_id), n.id, json_string(n.host), n.port);
    return;
  }
  fmt::print("Config {}: cluster \"{}\", transport {}{}\n", c.source, c.cluster_id, c.transport,
             c.ucx_tls.empty() ? "" : " (tls " + c.ucx_tls + ")");
  fmt::print("  threads {}, {} data regions of {} per node, ring {}, connect timeout {} ms, peer timeout {} ms\n",
             c.threads, c.regions_per_node, format_size(c.region_size), format_size(c.ring_size),
             c.connect_timeout_ms, c.peer_timeout_ms);
  for (const auto& n : c.nodes) fmt::print("  node {:>3}  {}:{}\n", n.id, n.host, n.port);
}

}  // namespace

int cmd_info(const InfoArgs& a) {
  int rc = 0;
  if (auto u = ucx_inventory(); u.ok()) {
    print_ucx(*u, a.json);
  } else {
    fmt::print(stderr, "UCX: {}\n", u.status().to_string());
    rc = 1;
  }
  if (auto r = rdma_inventory(); r.ok()) print_rdma(*r, a.json);
  if (a.config.empty()) return rc;
  auto cfg = load_config(a.config);
  if (!cfg.ok()) {
    fmt::print(stderr, "remora info: {}\n", cfg.status().to_string());
    return 2;
  }
  print_config(*cfg, a.json);
  return rc;
}

}  // namespace remora::cli
