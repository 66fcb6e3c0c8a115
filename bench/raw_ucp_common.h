// Shared pieces of raw_ucp_lat (see raw_ucp_lat.cc): one UCP context with a
// UCX-allocated buffer, the target side, and blocking socket I/O for the
// out-of-band exchange. Uses no Remora code.
#pragma once

#include <ucp/api/ucp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace raw_ucp {

using Clock = std::chrono::steady_clock;

// First message from target to initiator; worker address and rkey follow.
struct TargetInfo {
  uint64_t remote_addr;
  uint64_t remote_len;
  uint32_t worker_addr_len;
  uint32_t rkey_len;
};
static_assert(sizeof(TargetInfo) == 24);

// One UCP context + worker + UCX-allocated buffer; shared by both roles.
struct Ucp {
  ucp_context_h ctx = nullptr;
  ucp_worker_h worker = nullptr;
  ucp_mem_h memh = nullptr;
  void* buf = nullptr;
  uint64_t len = 0;
};

Clock::time_point after_seconds(double s);
// Prints a failed status with `what`; true if s == UCS_OK.
bool check(ucs_status_t s, const char* what);
// Context (RMA + 64-bit atomics), one single-threaded worker and `len` bytes
// mapped with UCP_MEM_MAP_ALLOCATE (zeroed): over shared memory, only
// UCX-allocated memory is accessed truly one-sided.
bool ucp_open(Ucp& u, uint64_t len);
void ucp_close(Ucp& u);
bool write_all(int fd, const void* data, size_t n);
bool read_all(int fd, void* data, size_t n);
// The target process: opens UCP, sends TargetInfo + worker address + rkey on
// fd, then spins ucp_worker_progress (tcp emulates one-sided operations with
// the target's help) until a stop byte, EOF, or lifetime_s. Returns the exit
// code.
int run_target(int fd, uint64_t len, double lifetime_s);

}  // namespace raw_ucp
