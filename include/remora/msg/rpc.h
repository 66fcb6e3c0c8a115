// RpcEndpoint: request/response calls over one thread's Messenger.
//
// A call frames {id, method, body} as a kRpcRequest record; the callee's
// handler fills a response body and returns a Status, which travels back in
// a kRpcResponse record (code + message) and reaches the caller's callback.
// Records of other types go to the default handler. Wire layout: rpc_wire.h.
//
// Thread safety: owner thread only, like the Messenger. Handlers and
// callbacks run inside poll(); they may call() but must not poll().
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <span>
#include <unordered_map>
#include <vector>

#include "remora/common/status.h"
#include "remora/msg/inline_function.h"
#include "remora/msg/messenger.h"

namespace remora {

struct RpcOptions {
  // Monotonic clock in ns used for call deadlines; empty means steady_clock.
  std::function<uint64_t()> now_ns;
};

class RpcEndpoint {
 public:
  // Fills `resp` (empty on entry) and returns the status the caller sees.
  using Handler = std::function<Status(NodeId from, std::span<const std::byte> req,
                                       std::vector<std::byte>& resp)>;
  // `resp` is empty unless status is OK, and valid only during the call.
  // Callables of up to 48 bytes are stored without an allocation.
  using Callback = InlineFunction<void(Status status, std::span<const std::byte> resp)>;
  using DefaultHandler =
      std::function<void(NodeId from, uint16_t type, std::span<const std::byte> payload)>;

  // `messenger` must outlive the endpoint; the endpoint is its only poller.
  static Result<std::unique_ptr<RpcEndpoint>> create(Messenger& messenger, RpcOptions options = {});

  // kInvalidArgument if `method` already has a handler or `handler` is empty.
  Status register_handler(uint16_t method, Handler handler);
  void set_default_handler(DefaultHandler handler);

  // Sends a request. On OK, `done` runs exactly once from a later poll():
  // with the response, the handler's error, kTimeout after `timeout`, or the
  // link's error (kPeerGone, kCorrupt) when the callee becomes unreachable.
  // On any other return nothing was sent and `done` never runs: kFull means
  // the ring is full now (poll, then retry); kInvalidArgument for an unknown
  // peer or a request too large for the ring; kPeerGone for a gone peer.
  Status call(NodeId to, uint16_t method, std::span<const std::byte> req,
              std::chrono::nanoseconds timeout, Callback done);

  // Sends queued responses, delivers records, expires calls. Returns the
  // number of records handled plus calls failed, or the Messenger's error
  // (after failing the calls to the peer whose ring broke).
  Result<size_t> poll();

  size_t pending_calls() const { return calls_.size(); }
  // Earliest call deadline (now_ns clock; possibly of a call already
  // answered), or UINT64_MAX: for a simulator's virtual clock.
  uint64_t next_deadline_ns() const { return deadlines_.empty() ? UINT64_MAX : deadlines_.top().first; }
  uint32_t max_request() const;

  struct Stats {
    uint64_t unknown_responses = 0;  // no pending call with that id and peer
    uint64_t malformed = 0;          // RPC records too short or inconsistent
    uint64_t unhandled = 0;          // non-RPC records without a default handler
    uint64_t deferred_responses = 0; // responses queued because the ring was full
    uint64_t lost_responses = 0;     // responses to peers that went away
  };
  const Stats& stats() const { return stats_; }

 private:
  struct PendingCall {
    NodeId to = kInvalidNode;
    Callback done;
  };
  struct QueuedResponse {
    NodeId to = kInvalidNode;
    std::vector<std::byte> payload;
  };

  RpcEndpoint(Messenger& messenger, RpcOptions options);
  uint64_t now_ns() const;
  void on_record(NodeId from, uint16_t type, std::span<const std::byte> payload);
  void on_request(NodeId from, std::span<const std::byte> payload);
  void on_response(NodeId from, std::span<const std::byte> payload);
  void send_response(NodeId to, uint64_t id, const Status& status,
                     std::span<const std::byte> body);
  void flush_responses();
  size_t expire_calls();
  size_t fail_unreachable_calls();
  void finish(uint64_t id, Status status, std::span<const std::byte> resp);
  void add_call(uint64_t id, NodeId to, Callback done);

  Messenger& messenger_;
  const RpcOptions options_;
  std::unordered_map<uint16_t, Handler> handlers_;
  DefaultHandler default_handler_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, PendingCall> calls_;
  // Nodes of finished calls, reused by the next calls: no allocation per call.
  std::vector<std::unordered_map<uint64_t, PendingCall>::node_type> spare_calls_;
  // (deadline, id), earliest first; ids already finished are skipped.
  using Deadline = std::pair<uint64_t, uint64_t>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::deque<QueuedResponse> queued_;
  std::vector<std::byte> resp_buf_;  // reused by every handler call
  Stats stats_;
};

}  // namespace remora
