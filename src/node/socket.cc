#include "node/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace remora {
namespace {

Status errno_status(std::string_view what) {
  return Status::IoError(fmt::format("{}: {}", what, std::strerror(errno)));
}

Result<sockaddr_in> resolve(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res)
    return Status::InvalidArgument(fmt::format("cannot resolve \"{}\": {}", host, gai_strerror(rc)));
  sockaddr_in a = *reinterpret_cast<sockaddr_in*>(res->ai_addr);
  freeaddrinfo(res);
  a.sin_port = htons(port);
  return a;
}

int wait_fd(int fd, short events, Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
  } while (rc < 0 && errno == EINTR);
  return rc;
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Fd> listen_tcp(const std::string& host, uint16_t port) {
  auto addr = resolve(host, port);
  if (!addr.ok()) return addr.status();
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_status("socket");
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof(*addr)) != 0)
    return errno_status(fmt::format("bind {}:{}", host, port));
  if (::listen(fd.get(), 64) != 0) return errno_status("listen");
  return fd;
}

Result<Fd> connect_tcp(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  auto addr = resolve(host, port);
  if (!addr.ok()) return addr.status();
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return errno_status("socket");
  int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof(*addr));
  if (rc != 0 && errno != EINPROGRESS) {
    if (errno == ECONNREFUSED || errno == ENETUNREACH || errno == EHOSTUNREACH)
      return Status::Unavailable(fmt::format("{}:{}: {}", host, port, std::strerror(errno)));
    return errno_status(fmt::format("connect {}:{}", host, port));
  }
  if (rc != 0) {
    if (wait_fd(fd.get(), POLLOUT, Clock::now() + timeout) <= 0)
      return Status::Unavailable(fmt::format("{}:{}: connect timed out", host, port));
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      return Status::Unavailable(fmt::format("{}:{}: {}", host, port, std::strerror(err)));
  }
  int flags = fcntl(fd.get(), F_GETFL);
  fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  set_nodelay(fd.get());
  return fd;
}

Result<Fd> accept_tcp(int listen_fd, std::chrono::milliseconds timeout) {
  int rc = wait_fd(listen_fd, POLLIN, Clock::now() + timeout);
  if (rc == 0) return Status::Timeout("no connection");
  if (rc < 0) return errno_status("poll(listen)");
  Fd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) return errno_status("accept");
  set_nodelay(fd.get());
  return fd;
}

Status send_all(int fd, std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::PeerGone(fmt::format("send to {}: {}", peer_name(fd), std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status recv_exact(int fd, std::span<uint8_t> out, Clock::time_point deadline) {
  size_t done = 0;
  while (done < out.size()) {
    int rc = wait_fd(fd, POLLIN, deadline);
    if (rc == 0) return Status::Timeout(fmt::format("receive from {} timed out", peer_name(fd)));
    if (rc < 0) return errno_status("poll");
    ssize_t n = ::recv(fd, out.data() + done, out.size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Status::PeerGone(fmt::format("{} closed the connection", peer_name(fd)));
    if (n < 0) return Status::PeerGone(fmt::format("receive from {}: {}", peer_name(fd), std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

std::string peer_name(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return "?";
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof(buf));
  return fmt::format("{}:{}", buf, ntohs(a.sin_port));
}

}  // namespace remora
