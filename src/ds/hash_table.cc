// HashTable: create (load time), open (catalog lookups), addressing.
#include "remora/ds/hash_table.h"

#include <fmt/format.h>

#include <algorithm>

#include "ds/bucket.h"
#include "ds/meta.h"
#include "remora/runtime/context.h"
#include "remora/txn/object.h"
#include "remora/txn/txn_engine.h"
#include "txn/block_allocator.h"

namespace remora {

using ds_detail::Layout;
using ds_detail::Meta;

namespace {

// This node's meta row, read from local memory (it never changes).
Result<Meta> local_meta(const Store& store, const std::string& name) {
  auto t = store.table(ds_detail::meta_name(name));
  if (!t.ok()) return t.status();
  const std::byte* o = store.local_object(t->row(0), t->stride);
  if (!o) return Status::Internal(fmt::format("meta of {} is not in local memory", name));
  if (obj::check({o, t->stride}) != obj::Check::kOk)
    return Status::Corrupt(fmt::format("meta of {} fails its checksum", name));
  return ds_detail::decode_meta({o + obj::kHeaderSize, t->size});
}

// Node `node`'s meta row, through the catalog and a one-sided read.
Result<Meta> remote_meta(Context& ctx, TxnEngine& txn, NodeId node, const std::string& name) {
  auto t = txn.lookup_table(ctx, node, ds_detail::meta_name(name));
  if (!t.ok()) return t.status();
  std::vector<std::byte> row(t->size);
  REMORA_RETURN_IF_ERROR(txn.lockfree_read_bytes(ctx, t->row(0), row, nullptr));
  return ds_detail::decode_meta(row);
}

}  // namespace

Status HashTable::create(Store& store, const std::string& name, const std::vector<NodeId>& nodes,
                         const HashTableOptions& o) {
  REMORA_RETURN_IF_ERROR(ds_detail::check_options(o));
  if (name.empty()) return Status::InvalidArgument("hash table: empty name");
  const auto me = std::find(nodes.begin(), nodes.end(), store.self());
  if (me == nodes.end())
    return Status::InvalidArgument(fmt::format("hash table {}: node {} is not in the node list", name, store.self()));
  if (store.table(ds_detail::buckets_name(name)).ok() || store.table(ds_detail::meta_name(name)).ok())
    return Status::InvalidArgument(fmt::format("hash table {} exists", name));
  const Meta m{o, nodes, static_cast<uint32_t>(me - nodes.begin())};
  const Layout layout(o);
  auto meta = store.create_table(ds_detail::meta_name(name), 1, ds_detail::meta_size(nodes.size()),
                                 [&](uint32_t, std::span<std::byte> p) { ds_detail::encode_meta(m, p); });
  if (!meta.ok()) return meta.status();
  auto buckets = store.create_table(ds_detail::buckets_name(name), o.buckets_per_node, layout.bucket_size(),
                                    [&](uint32_t, std::span<std::byte> p) { layout.init_bucket(p.data()); });
  return buckets.status();
}

Result<HashTable> HashTable::open(Context& ctx, TxnEngine& txn, const std::string& name) {
  auto mine = local_meta(txn.store(), name);
  if (!mine.ok()) return mine.status();
  HashTable t;
  t.name_ = name;
  t.options_ = mine->options;
  t.nodes_ = mine->nodes;
  t.block_size_ = txn.store().blocks().block_size();
  const uint32_t bsize = t.bucket_size();
  for (uint32_t p = 0; p < t.nodes_.size(); ++p) {
    const NodeId n = t.nodes_[p];
    auto m = remote_meta(ctx, txn, n, name);
    if (!m.ok()) return m.status().with_context(fmt::format("hash table {} on node {}", name, n));
    if (!ds_detail::same_table(*mine, *m) || m->position != p)
      return Status::Corrupt(fmt::format("hash table {}: node {} disagrees with node {} on its options or nodes",
                                         name, n, txn.self()));
    auto b = txn.lookup_table(ctx, n, ds_detail::buckets_name(name));
    if (!b.ok()) return b.status().with_context(fmt::format("hash table {} on node {}", name, n));
    if (b->rows != t.options_.buckets_per_node || b->size != bsize)
      return Status::Corrupt(fmt::format("hash table {}: node {} has {} buckets of {} B, expected {} of {} B", name,
                                         n, b->rows, b->size, t.options_.buckets_per_node, bsize));
    t.arrays_.push_back(*b);
  }
  return t;
}

NodeId HashTable::home(std::span<const std::byte> key) const {
  return nodes_[(hash_key(key) % buckets()) % nodes_.size()];
}

GAddr HashTable::bucket_addr(uint64_t bucket) const {
  const uint64_t n = nodes_.size();
  return arrays_[bucket % n].row(static_cast<uint32_t>(bucket / n));
}

uint32_t HashTable::bucket_size() const { return Layout(options_).bucket_size(); }

}  // namespace remora
