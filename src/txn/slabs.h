// Slabs: one engine thread's object allocator (docs/transactions.md).
//
// Small objects come from slabs: blocks of one slot size (a power of two,
// 32 B up to half a block), cut on demand, with a local free list per size.
// Larger objects take whole contiguous blocks. Owner thread only; the
// BlockAllocator behind it is shared by the node's threads.
#pragma once

#include <cstdint>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/types.h"
#include "txn/block_allocator.h"

namespace remora::txn_detail {

class Slabs {
 public:
  explicit Slabs(BlockAllocator& blocks);

  // The slot bytes an object of `size` payload bytes takes; 0 means it
  // takes a run of whole blocks.
  uint32_t slot_for(uint32_t size) const;

  // A slot (or run) for an object of `size` payload bytes; the caller owns
  // it until give_back() or until a committed alloc makes it an object.
  // kOutOfMemory names the size when no block is left.
  Result<GAddr> take(uint32_t size);
  // Returns an untouched slot from take() (the transaction aborted).
  void give_back(GAddr a, uint32_t size);
  // A committed free of the object at `a`: its slot goes to this thread's
  // free list (or its run back to the blocks, raising their version floor
  // to `last_version`). kInvalidArgument if `a` is not a slot or run start
  // of a local block.
  Status release(GAddr a, uint64_t last_version);
  // The version floor of a slot or run that take() gave for `size` bytes.
  uint64_t floor(GAddr a, uint32_t size) const;

  uint64_t free_slots() const;

 private:
  struct Class {
    uint32_t slot = 0;
    std::vector<GAddr> free;
    GAddr block;           // the block being cut
    uint32_t next = 0;     // offset of the next uncut slot in it
    bool has_block = false;
  };
  Class* class_for(uint32_t slot);

  BlockAllocator& blocks_;
  std::vector<Class> classes_;  // slot sizes 32, 64, ..., block / 2
};

}  // namespace remora::txn_detail
