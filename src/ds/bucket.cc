#include "ds/bucket.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>

#include "remora/txn/object.h"

namespace remora::ds_detail {

Status check_options(const HashTableOptions& o) {
  if (o.buckets_per_node == 0) return Status::InvalidArgument("hash table: buckets_per_node must be >= 1");
  if (o.slots == 0 || o.slots > kMaxSlots)
    return Status::InvalidArgument(fmt::format("hash table: slots {} not in 1..{}", o.slots, kMaxSlots));
  if (o.inline_bytes % 8 != 0 || o.inline_bytes > kMaxInline)
    return Status::InvalidArgument(
        fmt::format("hash table: inline_bytes {} must be a multiple of 8 up to {}", o.inline_bytes, kMaxInline));
  return Status::OK();
}

uint32_t slot_capacity(uint32_t size, uint32_t block_size) {
  const uint64_t need = obj::footprint(size);
  const uint64_t slot = std::max<uint64_t>(32, std::bit_ceil(need));
  if (slot <= block_size / 2) return static_cast<uint32_t>(slot - obj::kHeaderSize);
  const uint64_t blocks = (need + block_size - 1) / block_size;
  return static_cast<uint32_t>(blocks * block_size - obj::kHeaderSize);
}

Status check_entry(std::span<const std::byte> key, size_t value_len) {
  if (key.empty()) return Status::InvalidArgument("hash table: empty key");
  if (key.size() > kMaxKey)
    return Status::InvalidArgument(fmt::format("hash table: key of {} B (max {})", key.size(), kMaxKey));
  if (value_len > kMaxValue)
    return Status::InvalidArgument(fmt::format("hash table: value of {} B (max {})", value_len, kMaxValue));
  return Status::OK();
}

BucketHead Layout::head(const std::byte* b) const {
  BucketHead h;
  std::memcpy(&h, b, sizeof h);
  return h;
}

SlotHead Layout::slot(const std::byte* b, uint32_t i) const {
  SlotHead s;
  std::memcpy(&s, b + offset(i), sizeof s);
  return s;
}

GAddr Layout::object_of(const std::byte* b, uint32_t i) const {
  uint64_t raw;
  std::memcpy(&raw, area_of(b, i), sizeof raw);
  return GAddr::from_raw(raw);
}

std::span<const std::byte> Layout::inline_value(const std::byte* b, uint32_t i) const {
  const SlotHead s = slot(b, i);
  return {area_of(b, i) + s.key_len, s.value_len};
}

int Layout::find(const std::byte* b, uint64_t hash, std::span<const std::byte> key, uint32_t from) const {
  for (uint32_t i = from; i < slots_; ++i) {
    const SlotHead s = slot(b, i);
    if (s.key_len == 0 || s.hash != hash || s.key_len != key.size()) continue;
    if (!is_inline(s) || std::memcmp(area_of(b, i), key.data(), key.size()) == 0) return static_cast<int>(i);
  }
  return -1;
}

void Layout::init_bucket(std::byte* b) const {
  std::memset(b, 0, bucket_size());
  set_head(b, BucketHead{0, 0, kBucketTag});
}

bool Layout::is_entry(std::span<const std::byte> o) {
  ObjectHead h;
  if (o.size() < sizeof h) return false;
  std::memcpy(&h, o.data(), sizeof h);
  return h.tag == kEntryTag;
}

bool Layout::object_holds(std::span<const std::byte> o, std::span<const std::byte> key) {
  ObjectHead h;
  if (!is_entry(o)) return false;
  std::memcpy(&h, o.data(), sizeof h);
  if (h.key_len != key.size() || sizeof h + uint64_t{h.key_len} + h.value_len > o.size()) return false;
  return std::memcmp(o.data() + sizeof h, key.data(), key.size()) == 0;
}

std::span<const std::byte> Layout::object_value(std::span<const std::byte> o) {
  ObjectHead h;
  std::memcpy(&h, o.data(), sizeof h);
  return o.subspan(sizeof h + h.key_len, h.value_len);
}

void Layout::write_object(std::span<std::byte> o, std::span<const std::byte> key, std::span<const std::byte> value) {
  const ObjectHead h{static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size()), 0, kEntryTag};
  std::memset(o.data(), 0, o.size());
  std::memcpy(o.data(), &h, sizeof h);
  std::memcpy(o.data() + sizeof h, key.data(), key.size());
  if (!value.empty()) std::memcpy(o.data() + sizeof h + key.size(), value.data(), value.size());
}

int Layout::free_slot(const std::byte* b) const {
  for (uint32_t i = 0; i < slots_; ++i)
    if (slot(b, i).key_len == 0) return static_cast<int>(i);
  return -1;
}

void Layout::add_used(std::byte* b, int32_t d) const {
  BucketHead h = head(b);
  h.used = static_cast<uint32_t>(static_cast<int32_t>(h.used) + d);
  set_head(b, h);
}

void Layout::replace_inline(std::byte* b, uint32_t i, uint64_t hash, std::span<const std::byte> key,
                            std::span<const std::byte> value) const {
  const SlotHead s{hash, static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())};
  std::byte* p = b + offset(i);
  std::memcpy(p, &s, sizeof s);
  std::memset(p + sizeof s, 0, area());
  std::memcpy(p + sizeof s, key.data(), key.size());
  if (!value.empty()) std::memcpy(p + sizeof s + key.size(), value.data(), value.size());
}

void Layout::replace_object(std::byte* b, uint32_t i, uint64_t hash, uint32_t key_len, uint32_t value_len,
                            GAddr obj) const {
  const SlotHead s{hash, key_len, value_len};
  std::byte* p = b + offset(i);
  std::memcpy(p, &s, sizeof s);
  std::memset(p + sizeof s, 0, area());
  const uint64_t raw = obj.raw();
  std::memcpy(p + sizeof s, &raw, sizeof raw);
}

void Layout::put_inline(std::byte* b, uint32_t i, uint64_t hash, std::span<const std::byte> key,
                        std::span<const std::byte> value) const {
  replace_inline(b, i, hash, key, value);
  add_used(b, 1);
}

void Layout::put_object(std::byte* b, uint32_t i, uint64_t hash, uint32_t key_len, uint32_t value_len,
                        GAddr obj) const {
  replace_object(b, i, hash, key_len, value_len, obj);
  add_used(b, 1);
}

void Layout::clear(std::byte* b, uint32_t i) const {
  std::memset(b + offset(i), 0, slot_size());
  add_used(b, -1);
}

}  // namespace remora::ds_detail
