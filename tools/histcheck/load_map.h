// The objects a history says were placed at load time, and their versions
// (docs/history.md, "load" lines): the checker's initial versions.
#pragma once

#include <cstdint>
#include <vector>

#include "remora/common/status.h"
#include "remora/history/history.h"

namespace remora::histcheck {

class LoadMap {
 public:
  // kInvalidArgument for ranges that overlap or run past 2^64.
  static Result<LoadMap> build(const std::vector<HistoryLoad>& loads);

  bool empty() const { return ranges_.empty(); }
  uint64_t objects() const { return objects_; }
  uint64_t ranges() const { return ranges_.size(); }
  // The load version of the object at `addr`, or 0 if no range places an
  // object there: memory no one loaded is zero, so a never-allocated slot
  // reads as version 0 (free) and alloc installs version 1 over it.
  uint64_t initial(uint64_t addr) const;

 private:
  struct Range {
    uint64_t from, end, stride, version;  // [from, end)
  };
  std::vector<Range> ranges_;  // sorted by from, disjoint
  uint64_t objects_ = 0;
};

}  // namespace remora::histcheck
