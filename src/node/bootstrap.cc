#include "node/bootstrap.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>

namespace remora {
namespace {
constexpr auto kHandshakeTimeout = std::chrono::seconds(5);
constexpr auto kAcceptSlice = std::chrono::milliseconds(50);
constexpr auto kConnectAttempt = std::chrono::milliseconds(1000);

// Every handshake wait is capped by the connect deadline, so a silent peer
// or stranger cannot stretch connect_all() beyond connect_timeout_ms.
Clock::time_point handshake_deadline(Clock::time_point deadline) {
  return std::min<Clock::time_point>(Clock::now() + kHandshakeTimeout, deadline);
}
}  // namespace

Result<std::unique_ptr<Bootstrap>> Bootstrap::create(const Config& cfg, NodeId self, Fabric* fabric) {
  const NodeConfig* me = cfg.node(self);
  if (!me) return Status::NotFound(fmt::format("node {} is not in {}", self, cfg.source));
  std::unique_ptr<Bootstrap> b(new Bootstrap(cfg, self, fabric));
  auto l = listen_tcp(me->host, me->port);
  if (!l.ok()) return l.status().with_context(fmt::format("node {} control port", self));
  b->listen_ = std::move(*l);
  b->wake_ = Fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!b->wake_.valid()) return Status::IoError("eventfd failed");
  return b;
}

Bootstrap::~Bootstrap() {
  stop_ = true;
  uint64_t one = 1;
  if (wake_.valid()) (void)!write(wake_.get(), &one, sizeof(one));
  if (monitor_.joinable()) monitor_.join();
}

Status Bootstrap::connect_all(std::span<const uint8_t> local_info) {
  const auto hello = encode_hello(Hello{cfg_.cluster_id, self_, {local_info.begin(), local_info.end()}});
  std::vector<const NodeConfig*> outbound;
  size_t inbound = 0;
  for (const NodeConfig& n : cfg_.nodes) {
    if (n.id > self_) outbound.push_back(&n);
    if (n.id < self_) ++inbound;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(cfg_.connect_timeout_ms);
  size_t accepted = 0;
  while ((!outbound.empty() || accepted < inbound) && Clock::now() < deadline) {
    for (auto it = outbound.begin(); it != outbound.end();) {
      Status st = connect_one(**it, hello, deadline);
      if (st.ok()) it = outbound.erase(it);
      else if (st.code() == Code::kUnavailable) ++it;  // not up yet: retry
      else return st;
    }
    if (accepted < inbound) {
      size_t before = peers_.size();
      REMORA_RETURN_IF_ERROR(accept_one(hello, deadline));
      accepted += peers_.size() - before;
    } else if (!outbound.empty()) {
      std::this_thread::sleep_for(kAcceptSlice);
    }
  }
  if (!outbound.empty() || accepted < inbound) {
    std::string missing;
    for (const NodeConfig& n : cfg_.nodes) {
      bool have = n.id == self_ || std::any_of(peers_.begin(), peers_.end(),
                                               [&](const auto& p) { return p->id == n.id; });
      if (!have) missing += fmt::format(" {}({}:{})", n.id, n.host, n.port);
    }
    return Status::Timeout(fmt::format("node {}: peers never came up within {} ms:{}", self_,
                                       cfg_.connect_timeout_ms, missing));
  }
  listen_ = Fd();  // late strangers get connection refused
  for (auto& p : peers_) p->last_seen = Clock::now();
  monitor_ = std::thread([this] { monitor(); });
  return Status::OK();
}

Status Bootstrap::connect_one(const NodeConfig& peer, std::span<const uint8_t> hello,
                              Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  const auto attempt = std::clamp(left, std::chrono::milliseconds(1), kConnectAttempt);
  auto fd = connect_tcp(peer.host, peer.port, attempt);
  if (!fd.ok()) return fd.status();
  const std::string who = fmt::format("node {} at {}:{}", peer.id, peer.host, peer.port);
  Status st = write_control(fd->get(), ControlType::kHello, hello);
  if (!st.ok()) return Status::Unavailable(st.message());  // it went away: retry
  const auto answer_by = handshake_deadline(deadline);
  auto m = read_control(fd->get(), answer_by);
  if (!m.ok()) {
    const Code c = m.status().code();
    // Gone: retry. Out of time: connect_all names the peer as missing.
    if (c == Code::kPeerGone || (c == Code::kTimeout && answer_by == deadline))
      return Status::Unavailable(m.status().message());
    return m.status().with_context(who);
  }
  std::string text(m->payload.begin(), m->payload.end());
  if (m->type == ControlType::kReject) return Status::Refused(fmt::format("{} refused us: {}", who, text));
  if (m->type != ControlType::kHello) return Status::Refused(fmt::format("{} answered with no hello", who));
  auto h = decode_hello(m->payload);
  if (!h.ok()) return h.status().with_context(who);
  st = check_hello(*h, false);
  if (st.ok() && h->node != peer.id) st = Status::Refused(fmt::format("it claims to be node {}", h->node));
  if (!st.ok()) {
    (void)write_control(fd->get(), ControlType::kReject, {reinterpret_cast<const uint8_t*>(st.message().data()), st.message().size()});
    return st.with_context(fmt::format("refusing {}", who));
  }
  return install(peer.id, std::move(*fd), *h).with_context(who);
}

Status Bootstrap::accept_one(std::span<const uint8_t> hello, Clock::time_point deadline) {
  auto slice = std::min<Clock::duration>(kAcceptSlice, std::max<Clock::duration>(deadline - Clock::now(), {}));
  auto fd = accept_tcp(listen_.get(), std::chrono::duration_cast<std::chrono::milliseconds>(slice));
  if (!fd.ok()) return fd.status().code() == Code::kTimeout ? Status::OK() : fd.status();
  const std::string from = peer_name(fd->get());
  auto refuse = [&](const Status& why) {
    spdlog::warn("node {}: refused control connection from {}: {}", self_, from, why.to_string());
    (void)write_control(fd->get(), ControlType::kReject,
                        {reinterpret_cast<const uint8_t*>(why.message().data()), why.message().size()});
    return Status::OK();  // a stranger does not stop us waiting for real peers
  };
  auto m = read_control(fd->get(), handshake_deadline(deadline));
  if (!m.ok()) return refuse(m.status());
  if (m->type != ControlType::kHello) return refuse(Status::InvalidArgument("expected a hello"));
  auto h = decode_hello(m->payload);
  if (!h.ok()) return refuse(h.status());
  Status st = check_hello(*h, true);
  if (!st.ok()) return refuse(st);
  st = fabric_->add_peer(h->node, h->fabric_info);
  if (!st.ok()) return refuse(st);
  st = write_control(fd->get(), ControlType::kHello, hello);
  if (!st.ok()) return st.with_context(fmt::format("answering node {}", h->node));
  auto p = std::make_unique<Peer>();
  p->id = h->node;
  p->fd = std::move(*fd);
  peers_.push_back(std::move(p));
  spdlog::debug("node {}: node {} joined from {}", self_, h->node, from);
  return Status::OK();
}

Status Bootstrap::check_hello(const Hello& h, bool inbound) const {
  if (h.cluster_id != cfg_.cluster_id)
    return Status::Refused(fmt::format("wrong cluster id \"{}\" (this is cluster \"{}\")", h.cluster_id, cfg_.cluster_id));
  if (!cfg_.node(h.node)) return Status::Refused(fmt::format("node {} is not in the configuration", h.node));
  if (h.node == self_) return Status::Refused(fmt::format("node {} is this node", h.node));
  if (inbound && h.node > self_)
    return Status::Refused(fmt::format("node {} must wait for node {} to connect", h.node, self_));
  if (std::any_of(peers_.begin(), peers_.end(), [&](const auto& p) { return p->id == h.node; }))
    return Status::Refused(fmt::format("node {} is already connected", h.node));
  return Status::OK();
}

Status Bootstrap::install(NodeId id, Fd fd, const Hello& h) {
  REMORA_RETURN_IF_ERROR(fabric_->add_peer(id, h.fabric_info));
  auto p = std::make_unique<Peer>();
  p->id = id;
  p->fd = std::move(fd);
  peers_.push_back(std::move(p));
  return Status::OK();
}

}  // namespace remora
