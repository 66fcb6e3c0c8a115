#include "txn/slabs.h"

#include <fmt/format.h>

#include <bit>

#include "remora/txn/object.h"

namespace remora::txn_detail {

namespace {
constexpr uint32_t kMinSlot = 32;
}

Slabs::Slabs(BlockAllocator& blocks) : blocks_(blocks) {
  for (uint32_t s = kMinSlot; s <= blocks.block_size() / 2; s *= 2) classes_.push_back({s});
}

uint32_t Slabs::slot_for(uint32_t size) const {
  const uint64_t need = obj::footprint(size);
  const uint64_t slot = std::max<uint64_t>(kMinSlot, std::bit_ceil(need));
  return slot <= blocks_.block_size() / 2 ? static_cast<uint32_t>(slot) : 0;
}

Slabs::Class* Slabs::class_for(uint32_t slot) {
  for (Class& c : classes_)
    if (c.slot == slot) return &c;
  return nullptr;
}

Result<GAddr> Slabs::take(uint32_t size) {
  const uint32_t slot = slot_for(size);
  if (slot == 0) {
    const uint64_t bs = blocks_.block_size();
    const uint64_t count = (obj::footprint(size) + bs - 1) / bs;
    auto run = blocks_.take_run(static_cast<uint32_t>(count));
    if (!run.ok()) return run.status().with_context(fmt::format("object of {} B", size));
    return *run;
  }
  Class& c = *class_for(slot);
  if (!c.free.empty()) {
    const GAddr a = c.free.back();
    c.free.pop_back();
    return a;
  }
  if (!c.has_block || c.next + slot > blocks_.block_size()) {
    auto b = blocks_.take_slab_block(slot);
    if (!b.ok()) return b.status().with_context(fmt::format("object of {} B", size));
    c.block = *b;
    c.next = 0;
    c.has_block = true;
  }
  const GAddr a = c.block.plus(c.next);
  c.next += slot;
  return a;
}

void Slabs::give_back(GAddr a, uint32_t size) {
  const uint32_t slot = slot_for(size);
  if (slot == 0) {
    (void)blocks_.release_run(a);  // it came from take_run: cannot fail
    return;
  }
  class_for(slot)->free.push_back(a);
}

uint64_t Slabs::floor(GAddr a, uint32_t size) const { return blocks_.floor(a, obj::footprint(size)); }

Status Slabs::release(GAddr a, uint64_t last_version) {
  auto info = blocks_.info(a);
  if (!info.ok()) return info.status();
  if (info->run != 0 && !info->table) return blocks_.release_run(a, last_version);
  Class* c = info->slot ? class_for(info->slot) : nullptr;
  if (!c || a.offset() % info->slot != 0)
    return Status::InvalidArgument(
        fmt::format("{} is not a slab slot or object run (table rows are not reused)", a.to_string()));
  c->free.push_back(a);
  return Status::OK();
}

uint64_t Slabs::free_slots() const {
  uint64_t n = 0;
  for (const Class& c : classes_) n += c.free.size();
  return n;
}

}  // namespace remora::txn_detail
