#include "runtime/stack_pool.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/fiber_switch.h"

namespace remora::runtime_detail {

StackPool::StackPool(size_t usable) : page_(static_cast<size_t>(sysconf(_SC_PAGESIZE))) {
  usable_ = (usable + page_ - 1) / page_ * page_;
}

StackPool::~StackPool() {
  if (outstanding_ != 0) {
    std::fprintf(stderr, "remora: StackPool destroyed with %llu stacks in use\n",
                 static_cast<unsigned long long>(outstanding_));
    std::abort();
  }
  for (void* base : free_) {
    // Coroutines leave poisoned redzones on their stacks; ASan does not
    // clear them on munmap, so memory mapped later at this address (e.g. a
    // region of the next simulated cluster) would look like a stack.
    unpoison_stack(static_cast<std::byte*>(base) + page_, usable_);
    munmap(base, usable_ + page_);
  }
}

Result<boost::context::stack_context> StackPool::take() {
  void* base;
  if (!free_.empty()) {
    base = free_.back();
    free_.pop_back();
  } else {
    base = mmap(nullptr, usable_ + page_, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (base == MAP_FAILED)
      return Status::IoError(
          fmt::format("mmap of a {} B coroutine stack: {}", usable_ + page_, std::strerror(errno)));
    if (mprotect(base, page_, PROT_NONE) != 0) {
      const int err = errno;
      munmap(base, usable_ + page_);
      return Status::IoError(fmt::format("mprotect of a stack guard page: {}", std::strerror(err)));
    }
    ++mapped_;
  }
  ++outstanding_;
  boost::context::stack_context sc;
  sc.size = usable_;
  sc.sp = static_cast<std::byte*>(base) + page_ + usable_;  // the top: stacks grow down
  return sc;
}

void StackPool::give(const boost::context::stack_context& sc) {
  --outstanding_;
  free_.push_back(static_cast<std::byte*>(sc.sp) - sc.size - page_);
}

boost::context::stack_context PooledStack::allocate() {
  auto sc = pool->take();
  if (!sc.ok()) {
    std::fprintf(stderr, "remora: %s\n", sc.status().to_string().c_str());
    std::abort();
  }
  return *sc;
}

}  // namespace remora::runtime_detail
