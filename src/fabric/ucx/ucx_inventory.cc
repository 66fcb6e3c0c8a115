#include <uct/api/uct.h>
#include <ucp/api/ucp.h>

#include <fmt/format.h>

#include "remora/fabric/inventory.h"

namespace remora {
namespace {

std::string device_type(uct_device_type_t t) {
  switch (t) {
    case UCT_DEVICE_TYPE_NET: return "net";
    case UCT_DEVICE_TYPE_SHM: return "shm";
    case UCT_DEVICE_TYPE_ACC: return "acc";
    case UCT_DEVICE_TYPE_SELF: return "self";
    default: return "other";
  }
}

// Appends the transport resources of one memory domain.
void add_md_transports(uct_component_h comp, const char* comp_name, const char* md_name,
                       std::vector<UcxTransport>* out) {
  uct_md_config_t* cfg = nullptr;
  if (uct_md_config_read(comp, nullptr, nullptr, &cfg) != UCS_OK) return;
  uct_md_h md = nullptr;
  const ucs_status_t st = uct_md_open(comp, md_name, cfg, &md);
  uct_config_release(cfg);
  if (st != UCS_OK) return;
  uct_tl_resource_desc_t* res = nullptr;
  unsigned n = 0;
  if (uct_md_query_tl_resources(md, &res, &n) == UCS_OK) {
    for (unsigned i = 0; i < n; ++i)
      out->push_back({comp_name, md_name, res[i].tl_name, res[i].dev_name, device_type(res[i].dev_type)});
    uct_release_tl_resource_list(res);
  }
  uct_md_close(md);
}

}  // namespace

Result<UcxInventory> ucx_inventory() {
  UcxInventory inv;
  inv.version = ucp_get_version_string();
  uct_component_h* comps = nullptr;
  unsigned ncomp = 0;
  if (uct_query_components(&comps, &ncomp) != UCS_OK)
    return Status::Transport("uct_query_components failed");
  for (unsigned c = 0; c < ncomp; ++c) {
    uct_component_attr_t attr{};
    attr.field_mask = UCT_COMPONENT_ATTR_FIELD_NAME | UCT_COMPONENT_ATTR_FIELD_MD_RESOURCE_COUNT;
    if (uct_component_query(comps[c], &attr) != UCS_OK) continue;
    std::vector<uct_md_resource_desc_t> mds(attr.md_resource_count);
    attr.field_mask = UCT_COMPONENT_ATTR_FIELD_MD_RESOURCES;
    attr.md_resources = mds.data();
    if (uct_component_query(comps[c], &attr) != UCS_OK) continue;
    for (const auto& md : mds) add_md_transports(comps[c], attr.name, md.md_name, &inv.transports);
  }
  uct_release_component_list(comps);
  return inv;
}

}  // namespace remora
