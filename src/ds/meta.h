// The one-row "<name>.meta" table of each node's share of a hash table:
// what open() checks every node agrees on.
//
//   | MetaHead (32 B) | node ids, uint16 each, node_count of them |
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "remora/common/status.h"
#include "remora/ds/hash_table.h"
#include "remora/fabric/types.h"

namespace remora::ds_detail {

constexpr uint64_t kMetaMagic = 0x3174626168726d72ull;  // "rmrhabt1"

struct MetaHead {
  uint64_t magic;
  uint32_t buckets_per_node;
  uint32_t slots;
  uint32_t inline_bytes;
  uint32_t node_count;
  uint32_t position;  // this share's index in the node list
  uint32_t reserved;
};
static_assert(sizeof(MetaHead) == 32);

struct Meta {
  HashTableOptions options;
  std::vector<NodeId> nodes;
  uint32_t position = 0;
};

inline std::string buckets_name(const std::string& t) { return t + ".buckets"; }
inline std::string meta_name(const std::string& t) { return t + ".meta"; }

uint32_t meta_size(size_t nodes);
void encode_meta(const Meta& m, std::span<std::byte> out);  // REQUIRES out.size() == meta_size(m.nodes.size())
// kCorrupt for a bad magic, size or node count.
Result<Meta> decode_meta(std::span<const std::byte> in);
// True if both describe the same table (options and node list).
bool same_table(const Meta& a, const Meta& b);

}  // namespace remora::ds_detail
