// Small TCP helpers for the control plane (bootstrap, heartbeats). Blocking
// sockets with poll()-based deadlines; errors as Status naming the peer.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "remora/common/status.h"

namespace remora {

using Clock = std::chrono::steady_clock;

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Result<Fd> listen_tcp(const std::string& host, uint16_t port);
// One attempt; kUnavailable when nobody listens yet (the caller retries).
Result<Fd> connect_tcp(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);
Result<Fd> accept_tcp(int listen_fd, std::chrono::milliseconds timeout);  // kTimeout if none

Status send_all(int fd, std::span<const uint8_t> data);
Status recv_exact(int fd, std::span<uint8_t> out, Clock::time_point deadline);
std::string peer_name(int fd);  // "127.0.0.1:53422"

}  // namespace remora
