// raw_ucp_lat's UCP setup, target side and socket I/O; see raw_ucp_common.h.
#include "raw_ucp_common.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace raw_ucp {

Clock::time_point after_seconds(double s) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

bool check(ucs_status_t s, const char* what) {
  if (s == UCS_OK) return true;
  fmt::print(stderr, "raw_ucp_lat: {}: {}\n", what, ucs_status_string(s));
  return false;
}

bool ucp_open(Ucp& u, uint64_t len) {
  ucp_params_t p{};
  p.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_ESTIMATED_NUM_EPS;
  p.features = UCP_FEATURE_RMA | UCP_FEATURE_AMO64;
  p.estimated_num_eps = 1;
  if (!check(ucp_init(&p, nullptr, &u.ctx), "ucp_init")) return false;
  ucp_worker_params_t wp{};
  wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  wp.thread_mode = UCS_THREAD_MODE_SINGLE;
  if (!check(ucp_worker_create(u.ctx, &wp, &u.worker), "ucp_worker_create")) return false;
  ucp_mem_map_params_t mp{};
  mp.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH |
                  UCP_MEM_MAP_PARAM_FIELD_FLAGS;
  mp.address = nullptr;
  mp.length = len;
  mp.flags = UCP_MEM_MAP_ALLOCATE;
  if (!check(ucp_mem_map(u.ctx, &mp, &u.memh), "ucp_mem_map")) return false;
  ucp_mem_attr_t attr{};
  attr.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS | UCP_MEM_ATTR_FIELD_LENGTH;
  if (!check(ucp_mem_query(u.memh, &attr), "ucp_mem_query")) return false;
  u.buf = attr.address;
  u.len = len;
  std::memset(u.buf, 0, len);
  return true;
}

void ucp_close(Ucp& u) {
  if (u.memh) ucp_mem_unmap(u.ctx, u.memh);
  if (u.worker) ucp_worker_destroy(u.worker);
  if (u.ctx) ucp_cleanup(u.ctx);
  u = Ucp{};
}

bool write_all(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_all(int fd, void* data, size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

namespace {

bool send_target_info(const Ucp& u, int fd) {
  ucp_address_t* addr = nullptr;
  size_t addr_len = 0;
  if (!check(ucp_worker_get_address(u.worker, &addr, &addr_len), "ucp_worker_get_address"))
    return false;
  void* rkey = nullptr;
  size_t rkey_len = 0;
  bool ok = check(ucp_rkey_pack(u.ctx, u.memh, &rkey, &rkey_len), "ucp_rkey_pack");
  if (ok) {
    TargetInfo info{reinterpret_cast<uint64_t>(u.buf), u.len, static_cast<uint32_t>(addr_len),
                    static_cast<uint32_t>(rkey_len)};
    ok = write_all(fd, &info, sizeof info) && write_all(fd, addr, addr_len) &&
         write_all(fd, rkey, rkey_len);
    ucp_rkey_buffer_release(rkey);
  }
  ucp_worker_release_address(u.worker, addr);
  return ok;
}

}  // namespace

// Target: serve until a stop byte or EOF arrives, or the lifetime runs out.
int run_target(int fd, uint64_t len, double lifetime_s) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  Ucp u;
  if (!ucp_open(u, len) || !send_target_info(u, fd)) return 1;
  const auto deadline = after_seconds(lifetime_s);
  for (;;) {
    for (int i = 0; i < 1000; ++i) ucp_worker_progress(u.worker);
    char c;
    ssize_t r = ::recv(fd, &c, 1, MSG_DONTWAIT);
    if (r == 1 || r == 0) break;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;
    if (Clock::now() > deadline) {
      fmt::print(stderr, "raw_ucp_lat target: lifetime {} s exceeded\n", lifetime_s);
      break;
    }
  }
  ucp_close(u);
  return 0;
}

}  // namespace raw_ucp
