// Bucket and slot layout of the hash table (docs/ds.md); pure functions on
// a bucket's payload bytes, no fabric, no transactions.
//
//   bucket payload: | BucketHead (16 B) | slot 0 | slot 1 | ... |
//   slot:           | SlotHead (16 B) | area (max(8, inline_bytes) B) |
//
// A slot is empty when key_len is 0. An entry with key_len + value_len <=
// inline_bytes keeps key then value in the area; a larger entry keeps the
// GAddr of its own object in the area's first 8 bytes:
//   object: | ObjectHead (16 B) | key | value | zeros to the slot's end |
// The object carries its own lengths: one consistent read of it is a
// whole entry even if the bucket read before it is older (an in-place
// rewrite may change value_len). An empty bucket: zeros and the bucket tag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "remora/common/status.h"
#include "remora/ds/hash_table.h"
#include "remora/fabric/types.h"

namespace remora::ds_detail {

// Type tags at offset 12 of buckets and entry objects: both come from the
// same slab classes, so a stale link (read outside a snapshot) may lead to
// a slot reused for the other kind; the tag tells them apart.
constexpr uint32_t kBucketTag = 0x6b637562;  // "buck"
constexpr uint32_t kEntryTag = 0x72746e65;   // "entr"

struct BucketHead {
  uint64_t overflow;  // GAddr raw of the next bucket of the chain; 0: none
  uint32_t used;      // slots in use
  uint32_t tag;       // kBucketTag
};
static_assert(sizeof(BucketHead) == 16);

struct SlotHead {
  uint64_t hash;
  uint32_t key_len;    // 0: empty slot
  uint32_t value_len;
};
static_assert(sizeof(SlotHead) == 16);

struct ObjectHead {
  uint32_t key_len;
  uint32_t value_len;
  uint32_t reserved;
  uint32_t tag;  // kEntryTag
};
static_assert(sizeof(ObjectHead) == 16 && offsetof(ObjectHead, tag) == offsetof(BucketHead, tag));

constexpr uint32_t kMaxSlots = 64;
constexpr uint32_t kMaxInline = 64 << 10;
constexpr uint32_t kMaxKey = 65535;
constexpr uint32_t kMaxValue = 1u << 24;

// The payload bytes of the slab slot (or block run) an object of `size`
// payload bytes gets from the transaction layer's allocator (txn/slabs.cc)
// on a node with `block_size` blocks. Every object the table allocates is
// this large, padded with zeros: it fills its slot, so a slot reused for
// objects of other sizes holds nothing of an earlier object, and a backup
// that skips versions (truncations arrive in any order) ends byte-equal to
// the primary.
uint32_t slot_capacity(uint32_t size, uint32_t block_size);

// kInvalidArgument for options outside HashTableOptions' documented ranges.
Status check_options(const HashTableOptions& o);
// kInvalidArgument for an empty or oversized key or value.
Status check_entry(std::span<const std::byte> key, size_t value_len);

class Layout {
 public:
  // REQUIRES: check_options(o).ok().
  explicit Layout(const HashTableOptions& o, uint32_t block_size = 0)
      : slots_(o.slots), inline_(o.inline_bytes), block_(block_size) {}
  // An opened table's layout, with its node's block size.
  explicit Layout(const HashTable& t) : Layout(t.options_, t.block_size_) {}

  uint32_t slots() const { return slots_; }
  uint32_t area() const { return inline_ < 8 ? 8 : inline_; }
  uint32_t slot_size() const { return sizeof(SlotHead) + area(); }
  uint32_t bucket_size() const { return sizeof(BucketHead) + slots_ * slot_size(); }
  bool fits_inline(uint64_t key_len, uint64_t value_len) const { return key_len + value_len <= inline_; }
  // Object sizes of overflow buckets and out-of-line entries: their whole
  // slab slot (slot_capacity). REQUIRES: a block size was given.
  uint32_t overflow_size() const { return slot_capacity(bucket_size(), block_); }
  uint32_t object_size(uint64_t key_len, uint64_t value_len) const {
    return slot_capacity(static_cast<uint32_t>(sizeof(ObjectHead) + key_len + value_len), block_);
  }

  // An empty bucket at b (bucket_size() bytes; zeros beyond are left alone).
  void init_bucket(std::byte* b) const;
  bool is_bucket(const std::byte* b) const { return head(b).tag == kBucketTag; }

  // Accessors on a bucket payload of bucket_size() bytes; REQUIRES i < slots().
  BucketHead head(const std::byte* b) const;
  void set_head(std::byte* b, const BucketHead& h) const { std::memcpy(b, &h, sizeof h); }
  SlotHead slot(const std::byte* b, uint32_t i) const;
  bool is_inline(const SlotHead& s) const { return fits_inline(s.key_len, s.value_len); }
  const std::byte* area_of(const std::byte* b, uint32_t i) const { return b + offset(i) + sizeof(SlotHead); }
  GAddr object_of(const std::byte* b, uint32_t i) const;
  std::span<const std::byte> inline_value(const std::byte* b, uint32_t i) const;

  // The first slot at or after `from` that may hold `key`: hash and length
  // equal and, for an inline entry, the key bytes equal (an out-of-line
  // candidate needs its object checked). -1 if none.
  int find(const std::byte* b, uint64_t hash, std::span<const std::byte> key, uint32_t from = 0) const;
  // The first empty slot, or -1.
  int free_slot(const std::byte* b) const;

  // Writers; each keeps BucketHead::used right. REQUIRES: slot i empty for
  // the put_* calls, in use for clear().
  void put_inline(std::byte* b, uint32_t i, uint64_t hash, std::span<const std::byte> key,
                  std::span<const std::byte> value) const;
  void put_object(std::byte* b, uint32_t i, uint64_t hash, uint32_t key_len, uint32_t value_len,
                  GAddr obj) const;
  // Replaces slot i's entry (in use) keeping `used`.
  void replace_inline(std::byte* b, uint32_t i, uint64_t hash, std::span<const std::byte> key,
                      std::span<const std::byte> value) const;
  void replace_object(std::byte* b, uint32_t i, uint64_t hash, uint32_t key_len, uint32_t value_len,
                      GAddr obj) const;
  void clear(std::byte* b, uint32_t i) const;

  // Out-of-line entry objects (`size` bytes).
  static bool is_entry(std::span<const std::byte> o);
  // True if the object is an entry holding `key` (lengths checked against `size`).
  static bool object_holds(std::span<const std::byte> o, std::span<const std::byte> key);
  // REQUIRES object_holds(o, key) for some key.
  static std::span<const std::byte> object_value(std::span<const std::byte> o);
  // Writes key and value, zeroing the rest. REQUIRES o.size() >= 8 + key + value.
  static void write_object(std::span<std::byte> o, std::span<const std::byte> key, std::span<const std::byte> value);

 private:
  size_t offset(uint32_t i) const { return sizeof(BucketHead) + size_t{i} * slot_size(); }
  void add_used(std::byte* b, int32_t d) const;

  uint32_t slots_;
  uint32_t inline_;
  uint32_t block_;
};

}  // namespace remora::ds_detail
