#include "txn/attempt_scratch.h"

#include <fmt/format.h>

#include "remora/txn/object.h"

namespace remora::txn_detail {

std::string LocalConflict::describe() const {
  if (!set) return "no local conflict recorded";
  return fmt::format("validation of {} failed: {} at version {}, read at {}", GAddr::from_raw(addr).to_string(),
                     obj::locked(now) ? "locked" : "changed", obj::version(now), obj::version(seen));
}

ScratchLease::ScratchLease(std::vector<std::unique_ptr<AttemptScratch>>& pool) : pool_(pool) {
  if (pool_.empty()) {
    s_ = std::make_unique<AttemptScratch>();
    return;
  }
  s_ = std::move(pool_.back());
  pool_.pop_back();
}

ScratchLease::~ScratchLease() { pool_.push_back(std::move(s_)); }

}  // namespace remora::txn_detail
