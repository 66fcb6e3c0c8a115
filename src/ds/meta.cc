#include "ds/meta.h"

#include <fmt/format.h>

#include <cstring>

namespace remora::ds_detail {

uint32_t meta_size(size_t nodes) {
  return static_cast<uint32_t>((sizeof(MetaHead) + nodes * sizeof(NodeId) + 7) & ~size_t{7});
}

void encode_meta(const Meta& m, std::span<std::byte> out) {
  const MetaHead h{kMetaMagic,
                   m.options.buckets_per_node,
                   m.options.slots,
                   m.options.inline_bytes,
                   static_cast<uint32_t>(m.nodes.size()),
                   m.position,
                   0};
  std::memset(out.data(), 0, out.size());
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + sizeof h, m.nodes.data(), m.nodes.size() * sizeof(NodeId));
}

Result<Meta> decode_meta(std::span<const std::byte> in) {
  MetaHead h;
  if (in.size() < sizeof h) return Status::Corrupt(fmt::format("hash table meta of {} B", in.size()));
  std::memcpy(&h, in.data(), sizeof h);
  if (h.magic != kMetaMagic) return Status::Corrupt(fmt::format("hash table meta: bad magic {:#x}", h.magic));
  if (h.node_count == 0 || meta_size(h.node_count) != in.size() || h.position >= h.node_count)
    return Status::Corrupt(fmt::format("hash table meta: {} nodes, position {}, in {} B", h.node_count,
                                       h.position, in.size()));
  Meta m;
  m.options = {h.buckets_per_node, h.slots, h.inline_bytes};
  m.position = h.position;
  m.nodes.resize(h.node_count);
  std::memcpy(m.nodes.data(), in.data() + sizeof h, h.node_count * sizeof(NodeId));
  return m;
}

bool same_table(const Meta& a, const Meta& b) {
  return a.options.buckets_per_node == b.options.buckets_per_node && a.options.slots == b.options.slots &&
         a.options.inline_bytes == b.options.inline_bytes && a.nodes == b.nodes;
}

}  // namespace remora::ds_detail
