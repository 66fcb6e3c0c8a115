#include "txn/block_allocator.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace remora::txn_detail {

BlockAllocator::BlockAllocator(std::vector<LocalRegion*> regions, uint32_t block_size)
    : block_size_(block_size) {
  for (LocalRegion* r : regions) {
    const size_t n = r->size / block_size;
    regions_.push_back({r->id, std::vector<BlockInfo>(n), std::vector<bool>(n, false), std::vector<uint64_t>(n, 0)});
  }
}

const BlockAllocator::Region* BlockAllocator::region(RegionId id) const {
  for (const Region& r : regions_)
    if (r.id == id) return &r;
  return nullptr;
}

BlockAllocator::Region* BlockAllocator::region(RegionId id) {
  return const_cast<Region*>(std::as_const(*this).region(id));
}

Result<GAddr> BlockAllocator::take_slab_block(uint32_t slot) {
  std::lock_guard lock(mu_);
  for (Region& r : regions_) {
    for (size_t b = 0; b < r.used.size(); ++b) {
      if (r.used[b]) continue;
      r.used[b] = true;
      r.blocks[b] = {slot, 0};
      return GAddr(r.id, static_cast<uint32_t>(b * block_size_));
    }
  }
  return Status::OutOfMemory(fmt::format("no free {} B block for a slab of {} B slots",
                                         block_size_, slot));
}

Result<GAddr> BlockAllocator::take_run(uint32_t count, bool table) {
  std::lock_guard lock(mu_);
  for (Region& r : regions_) {
    size_t len = 0;
    for (size_t b = 0; b < r.used.size(); ++b) {
      len = r.used[b] ? 0 : len + 1;
      if (len < count) continue;
      const size_t start = b + 1 - count;
      for (size_t k = start; k <= b; ++k) r.used[k] = true;
      r.blocks[start] = {0, count, table};
      return GAddr(r.id, static_cast<uint32_t>(start * block_size_));
    }
  }
  return Status::OutOfMemory(fmt::format("no run of {} free {} B blocks", count, block_size_));
}

Status BlockAllocator::release_run(GAddr start, uint64_t last_version) {
  std::lock_guard lock(mu_);
  Region* rp = region(start.region());
  const size_t b = start.offset() / block_size_;
  if (!rp || start.offset() % block_size_ != 0 || b >= rp->blocks.size() || rp->blocks[b].run == 0 ||
      rp->blocks[b].table)
    return Status::InvalidArgument(fmt::format("{} does not start a run of blocks of one object", start.to_string()));
  Region& r = *rp;
  for (size_t k = b; k < b + r.blocks[b].run; ++k) {
    r.used[k] = false;
    r.floor[k] = std::max(r.floor[k], last_version);
  }
  r.blocks[b] = {};
  return Status::OK();
}

uint64_t BlockAllocator::floor(GAddr a, uint64_t bytes) const {
  std::lock_guard lock(mu_);
  const Region* r = region(a.region());
  if (!r || bytes == 0) return 0;
  uint64_t f = 0;
  const size_t first = a.offset() / block_size_;
  const size_t last = (a.offset() + bytes - 1) / block_size_;
  for (size_t k = first; k <= last && k < r->floor.size(); ++k) f = std::max(f, r->floor[k]);
  return f;
}

Result<BlockAllocator::BlockInfo> BlockAllocator::info(GAddr a) const {
  std::lock_guard lock(mu_);
  const Region* r = region(a.region());
  const size_t b = a.offset() / block_size_;
  if (!r || b >= r->blocks.size())
    return Status::OutOfRange(fmt::format("{} is not in a local data region", a.to_string()));
  return r->blocks[b];
}

uint64_t BlockAllocator::free_blocks() const {
  std::lock_guard lock(mu_);
  uint64_t n = 0;
  for (const Region& r : regions_)
    for (bool u : r.used) n += u ? 0 : 1;
  return n;
}

uint64_t BlockAllocator::used_bytes(RegionId id) const {
  std::lock_guard lock(mu_);
  const Region* r = region(id);
  if (!r) return 0;
  for (size_t b = r->used.size(); b > 0; --b)
    if (r->used[b - 1]) return b * block_size_;
  return 0;
}

}  // namespace remora::txn_detail
