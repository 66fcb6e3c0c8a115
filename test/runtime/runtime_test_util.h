// Helpers shared by the runtime unit suites.
#pragma once

#include <chrono>
#include <initializer_list>

#include "remora/node/engine.h"
#include "remora/runtime/worker.h"

namespace remora::testing {

// Turns `w`'s loop (and polls `serving` engines, e.g. RPC callees, in the
// same thread) until every coroutine of `w` ended; kTimeout after `limit`.
// Returns w's first error otherwise.
inline Status drive(Worker& w, std::initializer_list<Engine*> serving = {},
                    std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (w.live() > 0 || w.queued() > 0) {
    size_t work = w.poll_once();
    for (Engine* e : serving) work += e->poll_once();
    if (std::chrono::steady_clock::now() > deadline) return Status::Timeout("drive");
    if (work == 0) w.engine().idle(std::chrono::microseconds(100));
  }
  return w.first_error();
}

// Turns `w`'s loop `turns` times.
inline void turn(Worker& w, int turns) {
  for (int i = 0; i < turns; ++i) (void)w.poll_once();
}

}  // namespace remora::testing
