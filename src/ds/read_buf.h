// ReadBuf: a byte buffer on the (coroutine) stack for small reads, on the
// heap beyond that: keeps the lookup path free of allocations.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace remora::ds_detail {

class ReadBuf {
 public:
  static constexpr size_t kInline = 1024;
  std::span<std::byte> get(size_t n) {
    if (n <= kInline) return {small_, n};
    heap_.resize(n);
    return heap_;
  }

 private:
  alignas(16) std::byte small_[kInline];
  std::vector<std::byte> heap_;
};

}  // namespace remora::ds_detail
