#include "remora/msg/rpc.h"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "remora/msg/rpc_wire.h"

namespace remora {
namespace {

template <typename T>
std::span<const std::byte> bytes_of(const T& v) {
  return std::as_bytes(std::span(&v, 1));
}

}  // namespace

RpcEndpoint::RpcEndpoint(Messenger& messenger, RpcOptions options)
    : messenger_(messenger), options_(std::move(options)) {}

Result<std::unique_ptr<RpcEndpoint>> RpcEndpoint::create(Messenger& messenger,
                                                         RpcOptions options) {
  return std::unique_ptr<RpcEndpoint>(new RpcEndpoint(messenger, std::move(options)));
}

uint64_t RpcEndpoint::now_ns() const {
  if (options_.now_ns) return options_.now_ns();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint32_t RpcEndpoint::max_request() const {
  return messenger_.max_payload() - sizeof(RpcRequestHeader);
}

Status RpcEndpoint::register_handler(uint16_t method, Handler handler) {
  if (!handler) return Status::InvalidArgument("empty RPC handler");
  if (!handlers_.emplace(method, std::move(handler)).second)
    return Status::InvalidArgument(fmt::format("RPC method {} already has a handler", method));
  return Status::OK();
}

void RpcEndpoint::set_default_handler(DefaultHandler handler) {
  default_handler_ = std::move(handler);
}

Status RpcEndpoint::call(NodeId to, uint16_t method, std::span<const std::byte> req,
                         std::chrono::nanoseconds timeout, Callback done) {
  if (req.size() > max_request())
    return Status::InvalidArgument(
        fmt::format("RPC request of {} bytes exceeds {}", req.size(), max_request()));
  const RpcRequestHeader h{next_id_, method, 0, 0};
  const std::array<std::span<const std::byte>, 2> parts{bytes_of(h), req};
  REMORA_RETURN_IF_ERROR(messenger_.sendv(to, record_type::kRpcRequest, parts));
  ++next_id_;
  add_call(h.id, to, std::move(done));
  deadlines_.emplace(now_ns() + static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 0)),
                     h.id);
  return Status::OK();
}

void RpcEndpoint::add_call(uint64_t id, NodeId to, Callback done) {
  if (spare_calls_.empty()) {
    calls_.emplace(id, PendingCall{to, std::move(done)});
    return;
  }
  auto node = std::move(spare_calls_.back());
  spare_calls_.pop_back();
  node.key() = id;
  node.mapped() = PendingCall{to, std::move(done)};
  calls_.insert(std::move(node));
}

Result<size_t> RpcEndpoint::poll() {
  flush_responses();
  Result<size_t> got = messenger_.poll(
      [this](NodeId from, uint16_t type, std::span<const std::byte> p) { on_record(from, type, p); });
  size_t work = got.ok() ? *got : 0;
  work += expire_calls();
  work += fail_unreachable_calls();
  if (!got.ok()) return got.status();
  return work;
}

void RpcEndpoint::on_record(NodeId from, uint16_t type, std::span<const std::byte> payload) {
  if (type == record_type::kRpcRequest) return on_request(from, payload);
  if (type == record_type::kRpcResponse) return on_response(from, payload);
  if (default_handler_) return default_handler_(from, type, payload);
  ++stats_.unhandled;
}

void RpcEndpoint::on_request(NodeId from, std::span<const std::byte> payload) {
  RpcRequestHeader h;
  if (payload.size() < sizeof(h)) {
    ++stats_.malformed;
    return;
  }
  std::memcpy(&h, payload.data(), sizeof(h));
  auto it = handlers_.find(h.method);
  resp_buf_.clear();
  Status s = it == handlers_.end()
                 ? Status::NotFound(fmt::format("no RPC handler for method {}", h.method))
                 : it->second(from, payload.subspan(sizeof(h)), resp_buf_);
  if (s.ok()) return send_response(from, h.id, s, resp_buf_);
  send_response(from, h.id, s, {});
}

void RpcEndpoint::send_response(NodeId to, uint64_t id, const Status& status,
                                std::span<const std::byte> body) {
  const uint32_t limit = messenger_.max_payload() - sizeof(RpcResponseHeader);
  Status st = status;
  if (body.size() > limit) {
    st = Status::Internal(fmt::format("RPC response of {} bytes exceeds {}", body.size(), limit));
    body = {};
  }
  const std::string& msg = st.message();
  const uint32_t msg_len = static_cast<uint32_t>(std::min<size_t>(msg.size(), limit - body.size()));
  const RpcResponseHeader h{id, static_cast<uint8_t>(st.code()), 0, 0, msg_len};
  const std::array<std::span<const std::byte>, 3> parts{
      bytes_of(h), std::as_bytes(std::span(msg.data(), msg_len)), body};
  Status sent = queued_.empty() ? messenger_.sendv(to, record_type::kRpcResponse, parts)
                                : Status::Full("queue");
  if (sent.ok()) return;
  if (sent.code() != Code::kFull) {
    ++stats_.lost_responses;
    return;
  }
  // Keep order: once one response waits, later ones queue behind it.
  QueuedResponse q{to, {}};
  for (const auto& p : parts) q.payload.insert(q.payload.end(), p.begin(), p.end());
  queued_.push_back(std::move(q));
  ++stats_.deferred_responses;
}

void RpcEndpoint::flush_responses() {
  while (!queued_.empty()) {
    const QueuedResponse& q = queued_.front();
    Status s = messenger_.send(q.to, record_type::kRpcResponse, q.payload);
    if (s.code() == Code::kFull) return;
    if (!s.ok()) ++stats_.lost_responses;
    queued_.pop_front();
  }
}

void RpcEndpoint::on_response(NodeId from, std::span<const std::byte> payload) {
  RpcResponseHeader h;
  if (payload.size() < sizeof(h)) {
    ++stats_.malformed;
    return;
  }
  std::memcpy(&h, payload.data(), sizeof(h));
  auto it = calls_.find(h.id);
  if (it == calls_.end() || it->second.to != from) {
    ++stats_.unknown_responses;
    return;
  }
  const auto rest = payload.subspan(sizeof(h));
  if (h.message_len > rest.size() || h.code > static_cast<uint8_t>(kLastCode)) {
    ++stats_.malformed;
    return finish(h.id, Status::Corrupt(fmt::format("malformed RPC response from node {}", from)),
                  {});
  }
  if (h.code == static_cast<uint8_t>(Code::kOk))
    return finish(h.id, Status::OK(), rest.subspan(h.message_len));
  std::string msg(reinterpret_cast<const char*>(rest.data()), h.message_len);
  finish(h.id, Status(static_cast<Code>(h.code), std::move(msg)), {});
}

void RpcEndpoint::finish(uint64_t id, Status status, std::span<const std::byte> resp) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  Callback done = std::move(it->second.done);
  spare_calls_.push_back(calls_.extract(it));  // before the callback, which may call() again
  if (done) done(std::move(status), resp);
}

size_t RpcEndpoint::expire_calls() {
  size_t n = 0;
  const uint64_t now = now_ns();
  // Deadlines of answered calls go too, so the heap stays as small as the
  // calls in flight (it would otherwise grow, and reallocate, for a whole
  // timeout's worth of calls).
  while (!deadlines_.empty() &&
         (deadlines_.top().first <= now || calls_.count(deadlines_.top().second) == 0)) {
    const uint64_t id = deadlines_.top().second;
    deadlines_.pop();
    if (calls_.count(id) == 0) continue;
    finish(id, Status::Timeout(fmt::format("RPC {} to node {} timed out", id, calls_[id].to)), {});
    ++n;
  }
  return n;
}

size_t RpcEndpoint::fail_unreachable_calls() {
  if (calls_.empty()) return 0;
  size_t n = 0;
  for (NodeId peer : messenger_.peers()) {
    Status link = messenger_.peer_status(peer);
    if (link.ok()) continue;
    std::vector<uint64_t> ids;
    for (const auto& [id, c] : calls_)
      if (c.to == peer) ids.push_back(id);
    for (uint64_t id : ids) finish(id, link.with_context(fmt::format("RPC {}", id)), {});
    n += ids.size();
  }
  return n;
}

}  // namespace remora
