// StackPool: fixed-size coroutine stacks, mapped once and reused.
//
// Each stack is an anonymous private mapping with one PROT_NONE guard page
// at its low end (stacks grow down), so an overflow faults instead of
// silently corrupting a neighbour. Owner thread only.
#pragma once

#include <boost/context/stack_context.hpp>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "remora/common/status.h"

namespace remora::runtime_detail {

class StackPool {
 public:
  // `usable` is rounded up to whole pages.
  explicit StackPool(size_t usable);
  // Unmaps the free stacks. REQUIRES: every taken stack was given back.
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  // A free stack, or a newly mapped one (kIoError if mmap fails).
  Result<boost::context::stack_context> take();
  void give(const boost::context::stack_context& sc);

  size_t usable() const { return usable_; }
  uint64_t mapped() const { return mapped_; }  // mappings made so far
  size_t free_count() const { return free_.size(); }

 private:
  size_t page_;
  size_t usable_;
  std::vector<void*> free_;  // bases (guard page) of free stacks
  uint64_t mapped_ = 0;
  uint64_t outstanding_ = 0;
};

// Boost.Context StackAllocator over a pool: the fiber gives its stack back
// through deallocate() when it ends. Fibers are created with
// boost::context::preallocated from take(), so allocate() is never used.
struct PooledStack {
  StackPool* pool;
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& sc) noexcept { pool->give(sc); }
};

}  // namespace remora::runtime_detail
