// Bootstrap and membership watch over TCP control connections.
//
// One connection per pair of nodes: the lower id connects to the higher id
// (retrying until connect_timeout), so nodes may start in any order. Both
// sides send HELLO {cluster id, node id, fabric info}; a wrong cluster id,
// an unknown or duplicate node id or a malformed message is refused with a
// REJECT carrying the reason, which both sides log.
//
// After connect_all() a monitor thread keeps the connections: heartbeats
// every peer_timeout/4, barrier messages, and failure detection — EOF or a
// reset without a preceding BYE, or silence for peer_timeout, marks the peer
// gone in the fabric (so its operations fail fast instead of hanging).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "node/control_msg.h"
#include "node/socket.h"
#include "remora/cluster/config.h"
#include "remora/fabric/fabric.h"

namespace remora {

class Bootstrap {
 public:
  using GoneCallback = std::function<void(NodeId, const std::string& reason, bool clean)>;

  // Binds the control port of `self` (fails if it is taken).
  static Result<std::unique_ptr<Bootstrap>> create(const Config& cfg, NodeId self, Fabric* fabric);
  ~Bootstrap();

  // Exchanges hellos with every peer and adds them to the fabric. Returns
  // kTimeout naming the missing peers if they do not all arrive in time.
  Status connect_all(std::span<const uint8_t> local_info);

  // Cluster barrier in two halves so the caller can keep polling while it
  // waits: begin_barrier() tells every peer we reached barrier k (returned);
  // barrier_reached(k) says whether every peer has too, or kPeerGone if one
  // of them went away first.
  uint64_t begin_barrier();
  Result<bool> barrier_reached(uint64_t k);

  // Tells peers we leave on purpose, then closes the connections.
  void leave();

  void set_gone_callback(GoneCallback cb) { gone_cb_ = std::move(cb); }

 private:
  struct Peer {
    NodeId id = kInvalidNode;
    Fd fd;
    std::mutex send_mu;
    Clock::time_point last_seen;
    uint64_t barriers = 0;  // highest barrier number received
    bool bye = false;
    bool gone = false;
  };

  Bootstrap(const Config& cfg, NodeId self, Fabric* fabric) : cfg_(cfg), self_(self), fabric_(fabric) {}

  Status accept_one(std::span<const uint8_t> hello, Clock::time_point deadline);
  Status connect_one(const NodeConfig& peer, std::span<const uint8_t> hello,
                     Clock::time_point deadline);
  Status check_hello(const Hello& h, bool inbound) const;
  Status install(NodeId id, Fd fd, const Hello& h);
  void monitor();
  void handle(Peer& p, const ControlMsg& m);
  void peer_lost(Peer& p, const std::string& why);
  void send_to(Peer& p, ControlType type, std::span<const uint8_t> payload);

  Config cfg_;
  NodeId self_;
  Fabric* fabric_;
  Fd listen_;
  std::vector<std::unique_ptr<Peer>> peers_;  // connected peers
  std::thread monitor_;
  Fd wake_;  // eventfd: stops the monitor
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // guards Peer::barriers/bye/gone and my_barrier_
  std::condition_variable cv_;
  uint64_t my_barrier_ = 0;
  GoneCallback gone_cb_;
};

}  // namespace remora
