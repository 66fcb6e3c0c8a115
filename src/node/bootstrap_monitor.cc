// Bootstrap after connect_all(): heartbeats, barriers, failure detection.
#include <unistd.h>
#include <cstring>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "node/bootstrap.h"

namespace remora {

void Bootstrap::send_to(Peer& p, ControlType type, std::span<const uint8_t> payload) {
  std::lock_guard<std::mutex> g(p.send_mu);
  if (!p.fd.valid()) return;
  // A failed send shows up as EOF/reset on the monitor's next read.
  (void)write_control(p.fd.get(), type, payload);
}

void Bootstrap::monitor() {
  const auto timeout = std::chrono::milliseconds(cfg_.peer_timeout_ms);
  const auto beat = timeout / 4;
  auto next_beat = Clock::now();
  std::vector<pollfd> fds;
  std::vector<Peer*> who;
  while (!stop_) {
    fds.assign(1, pollfd{wake_.get(), POLLIN, 0});
    who.assign(1, nullptr);
    {
      std::lock_guard<std::mutex> g(mu_);
      for (auto& p : peers_)
        if (!p->gone) fds.push_back({p->fd.get(), POLLIN, 0}), who.push_back(p.get());
    }
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(beat.count()));
    if (rc < 0 && errno != EINTR) break;
    const auto now = Clock::now();
    for (size_t i = 1; i < fds.size(); ++i) {
      Peer& p = *who[i];
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto m = read_control(p.fd.get(), now + std::chrono::seconds(1));
      if (!m.ok()) {
        peer_lost(p, "control connection lost: " + m.status().message());
        continue;
      }
      p.last_seen = now;
      handle(p, *m);
    }
    for (size_t i = 1; i < who.size(); ++i)
      if (now - who[i]->last_seen > timeout)
        peer_lost(*who[i], fmt::format("no heartbeat for {} ms", cfg_.peer_timeout_ms));
    if (now >= next_beat) {
      for (size_t i = 1; i < who.size(); ++i) send_to(*who[i], ControlType::kHeartbeat, {});
      next_beat = now + beat;
    }
  }
}

void Bootstrap::handle(Peer& p, const ControlMsg& m) {
  std::lock_guard<std::mutex> g(mu_);
  switch (m.type) {
    case ControlType::kBarrier: {
      uint64_t n = 0;
      if (m.payload.size() == sizeof(n)) std::memcpy(&n, m.payload.data(), sizeof(n));
      p.barriers = std::max(p.barriers, n);
      cv_.notify_all();
      break;
    }
    case ControlType::kBye: p.bye = true; break;
    case ControlType::kHeartbeat: break;
    default:
      spdlog::warn("node {}: unexpected control message {} from node {}", self_,
                   static_cast<int>(m.type), p.id);
  }
}

void Bootstrap::peer_lost(Peer& p, const std::string& why) {
  bool clean;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (p.gone) return;
    p.gone = true;
    clean = p.bye;
    cv_.notify_all();
  }
  const std::string reason = clean ? "left the cluster" : why;
  fabric_->mark_peer_gone(p.id, reason);
  if (clean) spdlog::debug("node {}: node {} left", self_, p.id);
  else spdlog::error("node {}: node {} is gone: {}", self_, p.id, reason);
  if (gone_cb_) gone_cb_(p.id, reason, clean);
}

uint64_t Bootstrap::begin_barrier() {
  uint64_t k;
  {
    std::lock_guard<std::mutex> g(mu_);
    k = ++my_barrier_;
  }
  for (auto& p : peers_) send_to(*p, ControlType::kBarrier, {reinterpret_cast<const uint8_t*>(&k), sizeof(k)});
  return k;
}

Result<bool> Bootstrap::barrier_reached(uint64_t k) {
  std::lock_guard<std::mutex> g(mu_);
  for (auto& p : peers_) {
    if (p->barriers >= k) continue;
    if (p->gone) return Status::PeerGone(fmt::format("node {} is gone before barrier {}", p->id, k));
    return false;
  }
  return true;
}

void Bootstrap::leave() {
  for (auto& p : peers_) send_to(*p, ControlType::kBye, {});
  stop_ = true;
  uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof(one));
  if (monitor_.joinable()) monitor_.join();
  for (auto& p : peers_) {
    std::lock_guard<std::mutex> g(p->send_mu);
    p->fd = Fd();
  }
}

}  // namespace remora
