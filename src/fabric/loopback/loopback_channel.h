// LoopbackChannel: the per-thread half of LoopbackFabric (test double).
#pragma once

#include <deque>
#include <vector>

#include "fabric/loopback/loopback_fabric.h"

namespace remora {

// Not thread-safe (like every Channel); the fabric must outlive it.
class LoopbackChannel final : public Channel {
 public:
  LoopbackChannel(LoopbackFabric& fabric, uint32_t index) : fabric_(fabric), index_(index) {}

  Status post(std::span<const WorkRequest> batch) override;
  size_t poll(std::span<Completion> out) override;
  size_t in_flight() const override { return queue_.size(); }
  // No kernel object backs the double: callers must poll.
  int event_fd() override { return -1; }
  bool arm() override { return false; }
  uint32_t index() const override { return index_; }

 private:
  struct Queued {
    Completion completion;
    uint64_t ready_at_poll = 0;
  };
  void execute(const LoopbackFabric::Resolved& op);

  LoopbackFabric& fabric_;
  const uint32_t index_;
  uint64_t polls_ = 0;
  std::deque<Queued> queue_;
  std::vector<LoopbackFabric::Resolved> scratch_;
};

}  // namespace remora
