#include "histcheck/load_map.h"

#include <algorithm>

#include <fmt/format.h>

namespace remora::histcheck {

Result<LoadMap> LoadMap::build(const std::vector<HistoryLoad>& loads) {
  LoadMap m;
  for (const HistoryLoad& l : loads) {
    if (l.count == 0 || l.stride == 0)
      return Status::InvalidArgument(fmt::format("load at 0x{:x}: count and stride must be at least 1", l.from));
    uint64_t bytes = 0, end = 0;
    if (__builtin_mul_overflow(l.count, l.stride, &bytes) || __builtin_add_overflow(l.from, bytes, &end))
      return Status::InvalidArgument(fmt::format("load at 0x{:x} runs past 2^64", l.from));
    m.ranges_.push_back({l.from, end, l.stride, l.version});
    m.objects_ += l.count;
  }
  std::sort(m.ranges_.begin(), m.ranges_.end(), [](const Range& a, const Range& b) { return a.from < b.from; });
  for (size_t i = 1; i < m.ranges_.size(); ++i) {
    if (m.ranges_[i].from < m.ranges_[i - 1].end)
      return Status::InvalidArgument(fmt::format("load ranges at 0x{:x} and 0x{:x} overlap", m.ranges_[i - 1].from,
                                                 m.ranges_[i].from));
  }
  return m;
}

uint64_t LoadMap::initial(uint64_t addr) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                             [](uint64_t a, const Range& r) { return a < r.from; });
  if (it == ranges_.begin()) return 0;
  const Range& r = *(it - 1);
  // Inside a table but not at a row start: no object was placed there.
  if (addr >= r.end || (addr - r.from) % r.stride != 0) return 0;
  return r.version;
}

}  // namespace remora::histcheck
