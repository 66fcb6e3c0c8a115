// HashTableLoader: load-time inserts straight into this node's buckets
// (before push_replicas, no transaction running), keeping each bucket's
// object header (version 1, allocated) and checksum valid.
#include <fmt/format.h>

#include <cstring>

#include "ds/bucket.h"
#include "ds/meta.h"
#include "remora/ds/hash_table.h"
#include "remora/txn/object.h"

namespace remora {

using ds_detail::Layout;

Result<HashTableLoader> HashTableLoader::open(Store& store, const std::string& name) {
  auto mt = store.table(ds_detail::meta_name(name));
  if (!mt.ok()) return mt.status();
  const std::byte* o = store.local_object(mt->row(0), mt->stride);
  if (!o || obj::check({o, mt->stride}) != obj::Check::kOk)
    return Status::Corrupt(fmt::format("hash table {}: meta row unreadable", name));
  auto m = ds_detail::decode_meta({o + obj::kHeaderSize, mt->size});
  if (!m.ok()) return m.status();
  auto bt = store.table(ds_detail::buckets_name(name));
  if (!bt.ok()) return bt.status();
  if (bt->size != Layout(m->options).bucket_size())
    return Status::Corrupt(fmt::format("hash table {}: buckets of {} B, meta says {}", name, bt->size,
                                       Layout(m->options).bucket_size()));
  HashTableLoader l;
  l.store_ = &store;
  l.options_ = m->options;
  l.nodes_ = static_cast<uint32_t>(m->nodes.size());
  l.position_ = m->position;
  l.array_ = *bt;
  return l;
}

bool HashTableLoader::is_home(std::span<const std::byte> key) const {
  const uint64_t buckets = uint64_t{options_.buckets_per_node} * nodes_;
  return (hash_key(key) % buckets) % nodes_ == position_;
}

Result<bool> HashTableLoader::add(std::span<const std::byte> key, std::span<const std::byte> value) {
  REMORA_RETURN_IF_ERROR(ds_detail::check_entry(key, value.size()));
  const Layout layout(options_);
  if (!layout.fits_inline(key.size(), value.size()))
    return Status::InvalidArgument(fmt::format("hash table loader: {} + {} B entry is not inline ({} B)",
                                               key.size(), value.size(), options_.inline_bytes));
  const uint64_t hash = hash_key(key);
  const uint64_t bucket = hash % (uint64_t{options_.buckets_per_node} * nodes_);
  if (bucket % nodes_ != position_) return false;
  std::byte* o = store_->local_object(array_.row(static_cast<uint32_t>(bucket / nodes_)), array_.stride);
  if (!o) return Status::Internal("hash table loader: bucket not in local memory");
  std::byte* b = o + obj::kHeaderSize;
  // Only the loader wrote these buckets: every entry is inline.
  if (layout.find(b, hash, key) >= 0) return Status::AlreadyExists("hash table loader: key exists");
  const int slot = layout.free_slot(b);
  if (slot < 0) return false;
  layout.put_inline(b, static_cast<uint32_t>(slot), hash, key, value);
  obj::Header h = obj::header_of(o);
  h.crc = obj::checksum(h.word, h.size, {b, h.size});
  std::memcpy(o, &h, sizeof h);
  return true;
}

}  // namespace remora
