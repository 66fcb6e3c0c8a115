// HashTable: transactional get / insert / update / put / erase. Every
// bucket walked and every out-of-line object checked enters the
// transaction's read set; changes are buffered writes, allocs and frees
// of the same transaction.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ds/bucket.h"
#include "remora/ds/hash_table.h"
#include "remora/txn/tx.h"

namespace remora {

using ds_detail::Layout;
using ds_detail::SlotHead;

namespace {

// Where a key is in its bucket chain, and where it could go.
struct Walk {
  std::vector<uint32_t> chain;  // tx entries of the chain's buckets, in order
  int at = -1;                  // chain index of the bucket holding the key
  uint32_t slot = 0;
  int object = -1;  // tx entry of the key's out-of-line object
  int free_at = -1;  // chain index of the first bucket with an empty slot
  uint32_t free_slot = 0;
  bool found() const { return at >= 0; }
};

struct TableOp {
  Tx& tx;
  const HashTable& table;
  Layout layout;
  uint64_t hash;
  std::span<const std::byte> key;

  TableOp(Tx& t, const HashTable& ht, std::span<const std::byte> k)
      : tx(t), table(ht), layout(ht), hash(hash_key(k)), key(k) {}

  // The bytes of out-of-line object entry o that slot s points to.
  std::span<const std::byte> object_bytes(uint32_t o, const SlotHead& s) const {
    return {tx.payload(o), layout.object_size(s.key_len, s.value_len)};
  }

  // Checks the bucket of entry e for the key; OK with w->at set if found.
  Status search(uint32_t e, Walk* w) {
    const std::byte* b = tx.payload(e);
    for (int i = layout.find(b, hash, key); i >= 0; i = layout.find(b, hash, key, static_cast<uint32_t>(i) + 1)) {
      const SlotHead s = layout.slot(b, static_cast<uint32_t>(i));
      int object = -1;
      if (!layout.is_inline(s)) {
        auto o = tx.read_entry(layout.object_of(b, static_cast<uint32_t>(i)), layout.object_size(s.key_len, s.value_len));
        if (!o.ok()) return o.status();
        if (!Layout::is_entry(object_bytes(*o, s))) return stale(layout.object_of(b, static_cast<uint32_t>(i)));
        if (!Layout::object_holds(object_bytes(*o, s), key)) continue;
        object = static_cast<int>(*o);
      }
      w->at = static_cast<int>(w->chain.size() - 1);
      w->slot = static_cast<uint32_t>(i);
      w->object = object;
      return Status::OK();
    }
    return Status::OK();
  }

  Status walk(Walk* w) {
    GAddr a = table.bucket_addr(hash % table.buckets());
    for (;;) {
      auto e = tx.read_entry(a, w->chain.empty() ? layout.bucket_size() : layout.overflow_size());
      if (!e.ok()) return e.status();
      // Reads are not a snapshot: a chain seen looping is a conflict.
      if (std::find(w->chain.begin(), w->chain.end(), *e) != w->chain.end())
        return Status::Conflict(fmt::format("hash table {}: bucket chain loops at {}", table.name(), a.to_string()));
      w->chain.push_back(*e);
      const std::byte* b = tx.payload(*e);
      if (!layout.is_bucket(b)) {
        if (w->chain.size() == 1)
          return Status::Corrupt(fmt::format("hash table {}: {} is no bucket", table.name(), a.to_string()));
        return stale(a);
      }
      if (const int f = layout.free_slot(b); f >= 0 && w->free_at < 0) {
        w->free_at = static_cast<int>(w->chain.size() - 1);
        w->free_slot = static_cast<uint32_t>(f);
      }
      REMORA_RETURN_IF_ERROR(search(*e, w));
      if (w->found()) return Status::OK();
      const uint64_t next = layout.head(b).overflow;
      if (next == 0) return Status::OK();
      a = GAddr::from_raw(next);
    }
  }

  // A new object holding key then value; its address in *addr.
  Status new_object(std::span<const std::byte> value, GAddr* addr) {
    auto o = tx.alloc_entry(layout.object_size(key.size(), value.size()));  // zero-filled
    if (!o.ok()) return o.status();
    Layout::write_object({tx.write_entry(*o), layout.object_size(key.size(), value.size())}, key, value);
    *addr = tx.entry_addr(*o);
    return Status::OK();
  }

  // Writes the entry into slot i of bucket b (empty or replaced).
  void fill(std::byte* b, uint32_t i, bool replace, std::span<const std::byte> value, GAddr obj) {
    const auto kl = static_cast<uint32_t>(key.size());
    const auto vl = static_cast<uint32_t>(value.size());
    const bool inl = layout.fits_inline(kl, vl);
    if (replace)
      inl ? layout.replace_inline(b, i, hash, key, value) : layout.replace_object(b, i, hash, kl, vl, obj);
    else
      inl ? layout.put_inline(b, i, hash, key, value) : layout.put_object(b, i, hash, kl, vl, obj);
  }

  Status insert(const Walk& w, std::span<const std::byte> value) {
    GAddr obj;
    if (!layout.fits_inline(key.size(), value.size())) REMORA_RETURN_IF_ERROR(new_object(value, &obj));
    if (w.free_at >= 0) {
      fill(tx.write_entry(w.chain[static_cast<uint32_t>(w.free_at)]), w.free_slot, false, value, obj);
      return Status::OK();
    }
    auto nb = tx.alloc_entry(layout.overflow_size());  // zero-filled
    if (!nb.ok()) return nb.status();
    std::byte* fresh = tx.write_entry(*nb);
    layout.init_bucket(fresh);
    fill(fresh, 0, false, value, obj);
    std::byte* last = tx.write_entry(w.chain.back());
    ds_detail::BucketHead h = layout.head(last);
    h.overflow = tx.entry_addr(*nb).raw();
    layout.set_head(last, h);
    return Status::OK();
  }

  Status update(const Walk& w, std::span<const std::byte> value) {
    const uint32_t bucket = w.chain[static_cast<uint32_t>(w.at)];
    const SlotHead old = layout.slot(tx.payload(bucket), w.slot);
    const bool inl = layout.fits_inline(key.size(), value.size());
    if (w.object >= 0) {
      const auto obj = static_cast<uint32_t>(w.object);
      const uint32_t size = layout.object_size(old.key_len, old.value_len);
      if (!inl && layout.object_size(key.size(), value.size()) == size) {  // fits: rewrite in place
        Layout::write_object({tx.write_entry(obj), size}, key, value);
        if (old.value_len == value.size()) return Status::OK();
        fill(tx.write_entry(bucket), w.slot, true, value, tx.entry_addr(obj));
        return Status::OK();
      }
      REMORA_RETURN_IF_ERROR(tx.free_entry(obj));
    }
    GAddr addr;
    if (!inl) REMORA_RETURN_IF_ERROR(new_object(value, &addr));
    fill(tx.write_entry(bucket), w.slot, true, value, addr);
    return Status::OK();
  }

  Status erase(const Walk& w) {
    if (w.object >= 0) REMORA_RETURN_IF_ERROR(tx.free_entry(static_cast<uint32_t>(w.object)));
    const auto at = static_cast<uint32_t>(w.at);
    std::byte* b = tx.write_entry(w.chain[at]);
    layout.clear(b, w.slot);
    const ds_detail::BucketHead h = layout.head(b);
    if (at == 0 || h.used != 0) return Status::OK();
    // An empty overflow bucket: unlink it from its predecessor and free it.
    std::byte* pred = tx.write_entry(w.chain[at - 1]);
    ds_detail::BucketHead ph = layout.head(pred);
    ph.overflow = h.overflow;
    layout.set_head(pred, ph);
    return tx.free_entry(w.chain[at]);
  }

  // A link read from an object that changed since: validation would fail.
  Status stale(GAddr a) const {
    return Status::Conflict(fmt::format("hash table {}: stale link to {}", table.name(), a.to_string()));
  }

  Status not_found() const { return Status::NotFound(fmt::format("hash table {}: no such key", table.name())); }
};

}  // namespace

Status HashTable::get(Tx& tx, std::span<const std::byte> key, std::vector<std::byte>* value) const {
  REMORA_RETURN_IF_ERROR(ds_detail::check_entry(key, 0));
  TableOp op(tx, *this, key);
  Walk w;
  REMORA_RETURN_IF_ERROR(op.walk(&w));
  if (!w.found()) return op.not_found();
  const std::byte* b = tx.payload(w.chain[static_cast<uint32_t>(w.at)]);
  const SlotHead s = op.layout.slot(b, w.slot);
  if (w.object < 0) {
    const auto v = op.layout.inline_value(b, w.slot);
    value->assign(v.begin(), v.end());
  } else {
    const auto v = Layout::object_value(op.object_bytes(static_cast<uint32_t>(w.object), s));
    value->assign(v.begin(), v.end());
  }
  return Status::OK();
}

Status HashTable::insert(Tx& tx, std::span<const std::byte> key, std::span<const std::byte> value) const {
  REMORA_RETURN_IF_ERROR(ds_detail::check_entry(key, value.size()));
  TableOp op(tx, *this, key);
  Walk w;
  REMORA_RETURN_IF_ERROR(op.walk(&w));
  if (w.found()) return Status::AlreadyExists(fmt::format("hash table {}: key exists", name_));
  return op.insert(w, value);
}

Status HashTable::update(Tx& tx, std::span<const std::byte> key, std::span<const std::byte> value) const {
  REMORA_RETURN_IF_ERROR(ds_detail::check_entry(key, value.size()));
  TableOp op(tx, *this, key);
  Walk w;
  REMORA_RETURN_IF_ERROR(op.walk(&w));
  if (!w.found()) return op.not_found();
  return op.update(w, value);
}

Status HashTable::put(Tx& tx, std::span<const std::byte> key, std::span<const std::byte> value) const {
  REMORA_RETURN_IF_ERROR(ds_detail::check_entry(key, value.size()));
  TableOp op(tx, *this, key);
  Walk w;
  REMORA_RETURN_IF_ERROR(op.walk(&w));
  return w.found() ? op.update(w, value) : op.insert(w, value);
}

Status HashTable::erase(Tx& tx, std::span<const std::byte> key) const {
  REMORA_RETURN_IF_ERROR(ds_detail::check_entry(key, 0));
  TableOp op(tx, *this, key);
  Walk w;
  REMORA_RETURN_IF_ERROR(op.walk(&w));
  if (!w.found()) return op.not_found();
  return op.erase(w);
}

}  // namespace remora
