// BlockAllocator: the node's data regions cut into fixed-size blocks.
//
// A block is free, the home of a slab of one slot size (small objects), or
// part of a run of whole blocks (tables and large objects). Slab blocks stay
// slabs for good (their slots are reused by slots of the same size, whose
// headers sit at the same addresses); runs of freed objects return to the
// free pool and may come back as slabs or as runs of another shape. So
// that versions still only grow at every address, each block keeps a
// version floor: the highest version any object that started in it ever
// reached; a new object in the block starts above it (Tx::alloc_entry). The
// allocator keeps this in process memory; the allocated bit in each
// object's header is the truth that recovery can rebuild it from.
// Thread-safe (one mutex: blocks change hands rarely; slots come from
// per-thread slabs).
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/fabric.h"

namespace remora::txn_detail {

class BlockAllocator {
 public:
  // REQUIRES: block_size divides every region's size.
  BlockAllocator(std::vector<LocalRegion*> regions, uint32_t block_size);

  uint32_t block_size() const { return block_size_; }

  // A free block for a slab of `slot` bytes; kOutOfMemory if none is left.
  Result<GAddr> take_slab_block(uint32_t slot);
  // `count` contiguous free blocks in one region; kOutOfMemory if none.
  // A table's run holds many objects and is never released.
  Result<GAddr> take_run(uint32_t count, bool table = false);
  // Returns the run that starts at `start` (from take_run) to the free pool;
  // `last_version` is the highest version its object reached (0 if it was
  // never installed), which raises the floor of its blocks.
  Status release_run(GAddr start, uint64_t last_version = 0);
  // The highest floor of the blocks [a, a + bytes) overlaps (0 outside).
  uint64_t floor(GAddr a, uint64_t bytes) const;

  struct BlockInfo {
    uint32_t slot = 0;  // slab slot size; 0 for free or run blocks
    uint32_t run = 0;   // blocks in the run starting here; 0 if not a run start
    bool table = false; // the run holds a table (Store::create_table)
  };
  // What the block holding `a` is used for; kOutOfRange for other addresses.
  Result<BlockInfo> info(GAddr a) const;
  // Blocks not in use, over every region.
  uint64_t free_blocks() const;
  // Bytes from the region's start to the end of its last used block.
  uint64_t used_bytes(RegionId r) const;

 private:
  struct Region {
    RegionId id;
    std::vector<BlockInfo> blocks;
    std::vector<bool> used;
    std::vector<uint64_t> floor;
  };
  const Region* region(RegionId id) const;
  Region* region(RegionId id);

  const uint32_t block_size_;
  mutable std::mutex mu_;
  std::vector<Region> regions_;
};

}  // namespace remora::txn_detail
