// Messenger: FaRM-style message rings for one engine thread.
//
// For each peer p, one thread t's Messenger owns two rings: the outgoing ring
// (t on self -> p), which lives in p's system region and which it fills with
// one-sided WRITEs, and the incoming ring (t on p -> self), which lives in our
// system region and which it polls. Receivers report consumed space back
// lazily with an 8-byte WRITE into the sender's head slot. Layout, record
// format, flow control and validation: see system_layout.h, record.h and
// docs/rings.md.
//
// Thread safety: owner thread only (the thread that owns `channel`); no locks
// and no allocation on send()/poll(). The owner's poll loop must hand every
// Completion whose wr_id satisfies owns() to on_completion(), or head
// write-backs stop after the first one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/fabric.h"
#include "remora/msg/function_ref.h"
#include "remora/msg/record.h"
#include "remora/msg/system_layout.h"

namespace remora {

struct MessengerOptions {
  // A non-empty, invalid record at the head of a ring is taken to be
  // half-written (a sender descheduled mid-copy) until the record after it
  // checks out, which proves it complete and so corrupt; until then the
  // ring waits, however long, for it or for the peer to be declared failed.
  // After this long a warning is logged (then again at doubling intervals).
  std::chrono::nanoseconds warn_after = std::chrono::milliseconds(100);
  // Monotonic clock in ns; empty means std::chrono::steady_clock.
  std::function<uint64_t()> now_ns;
  // Records delivered per incoming ring per poll(), so one busy sender
  // cannot starve the others.
  uint32_t poll_budget = 64;
  // Fault injection (tests, the simulator): while this returns true for a
  // peer, send() to it reports kFull without writing, as if the ring
  // stayed full. Empty (the default) costs one branch.
  std::function<bool(NodeId to)> refuse_send;
};

class Messenger {
 public:
  // Called once per delivered record; payload is valid only during the call.
  // The handler may send() but must not poll() this Messenger.
  using Handler = FunctionRef<void(NodeId from, uint16_t type, std::span<const std::byte> payload)>;

  // REQUIRES: our system region (system_region_id(self), >= total_size()
  // bytes) is registered with `fabric`, and add_peer() was done for every
  // peer; `channel` belongs to `thread`; both outlive the Messenger.
  static Result<std::unique_ptr<Messenger>> create(Fabric& fabric, Channel& channel, NodeId self,
                                                   std::vector<NodeId> peers, uint32_t thread,
                                                   const SystemLayout& layout,
                                                   MessengerOptions options = {});
  ~Messenger();

  // Frames `payload` and WRITEs it to our ring on `to`. kFull when the ring
  // has no space now (nothing was written; retry after polling completions
  // and the receiver's head update); kPeerGone / kTransport / kCorrupt once
  // the link to `to` is broken; kInvalidArgument for an unknown peer, a
  // reserved type (0, 1) or a payload above max_payload().
  Status send(NodeId to, uint16_t type, std::span<const std::byte> payload);
  // As send(), with the payload gathered from `parts` in order.
  Status sendv(NodeId to, uint16_t type, std::span<const std::span<const std::byte>> parts);

  // Delivers valid records, in order per sender, at most poll_budget per
  // sender. Returns how many were delivered, or kCorrupt naming the sender,
  // thread and ring offset when a ring is found corrupt; that ring is then
  // never consumed again (peer_status() keeps reporting it) while the other
  // rings go on being polled.
  Result<size_t> poll(Handler handler);

  void on_completion(const Completion& c);
  static bool owns(uint64_t wr_id);

  // ---- Sleeping and waking (docs/runtime.md) ----
  // Announces in our wake word that the owner thread is about to block,
  // then looks once more at every incoming ring. false if a record is
  // already there: do not block. Either way, call awake() afterwards.
  // A sender that writes a record after the announcement sees it (it reads
  // our word after its WRITE landed) and rings our doorbell; a record that
  // landed before it is seen here.
  bool prepare_sleep();
  void awake();
  // True if every peer can wake us when it sends: it maps our memory (reads
  // our wake word and rings our doorbell) or its writes raise events on our
  // event fd by themselves. Otherwise a sleep must be bounded.
  bool peers_can_wake() const { return peers_can_wake_; }
  // Doorbells this messenger rang (a peer was asleep after our write).
  uint64_t doorbells() const { return doorbells_; }

  // OK, or why the link with `peer` is broken (corrupt incoming ring, failed
  // write, peer gone). kInvalidArgument for a node that is not a peer.
  Status peer_status(NodeId peer) const;

  NodeId self() const { return self_; }
  uint32_t thread() const { return thread_; }
  const std::vector<NodeId>& peers() const { return peers_; }
  uint32_t max_payload() const { return remora::max_payload(layout_.ring_size()); }

  // Ring positions in bytes since creation, for tests and stats.
  struct RingCounters {
    uint64_t sent = 0;          // our tail on the outgoing ring
    uint64_t head_seen = 0;     // the peer's last head write-back we saw
    uint64_t consumed = 0;      // bytes consumed from the incoming ring
    uint64_t written_back = 0;  // last consumed count we wrote back
    uint64_t head_writes = 0;   // head write-backs posted
    uint64_t slow_records = 0;  // warnings about an incomplete record at the head
  };
  RingCounters counters(NodeId peer) const;

 private:
  struct OutRing {
    std::byte* mirror = nullptr;   // local staging copy of the ring
    uint64_t* head = nullptr;      // our head slot for this peer (peer writes it)
    GAddr remote;                  // ring start on the peer
    uint64_t tail = 0;
    uint32_t next_seq = 1;
    Status broken;
    // The peer's wake word, mapped (nullptr: the transport cannot), and
    // its value when we last rang the peer's doorbell.
    const std::atomic<uint64_t>* peer_wake = nullptr;
    uint64_t rung = 0;
  };
  struct InRing {
    std::byte* ring = nullptr;
    uint64_t* staging = nullptr;   // source of head write-backs
    GAddr remote_head;             // our head slot on the peer
    uint64_t consumed = 0;
    uint32_t expected_seq = 1;
    uint64_t written_back = 0;     // value of the last posted write-back
    uint64_t head_writes = 0;
    bool write_back_in_flight = false;
    bool empty = true;             // last poll found nothing more to consume
    bool invalid_pending = false;  // an invalid record sits at the head
    uint64_t invalid_since_ns = 0;
    uint64_t warn_at_ns = 0;  // next warning about it, relative to invalid_since_ns
    uint64_t slow_records = 0;
    Status broken;
  };
  struct Link {
    NodeId peer = kInvalidNode;
    OutRing out;
    InRing in;
    Status failed;  // a failed head write-back or post
  };

  Messenger(Fabric& fabric, Channel& channel, NodeId self, std::vector<NodeId> peers,
            uint32_t thread, const SystemLayout& layout, MessengerOptions options);
  Status init_links();
  Link* link(NodeId peer);
  const Link* link(NodeId peer) const;

  Status drain(Link& l, Handler handler, size_t* delivered);
  Status on_invalid(Link& l, const RecordView& v, uint32_t offset);
  bool followed_by_valid(const InRing& in, const RecordView& v, uint32_t offset) const;
  void maybe_write_back(Link& l);
  bool sender_may_be_blocked(const InRing& in) const;
  void post_write_back(Link& l);
  void wake_if_asleep(Link& l);
  uint64_t now_ns() const;

  Fabric& fabric_;
  Channel& channel_;
  const NodeId self_;
  const std::vector<NodeId> peers_;
  const uint32_t thread_;
  const SystemLayout layout_;
  const MessengerOptions options_;
  std::vector<Link> links_;
  std::vector<int32_t> link_of_node_;  // node id -> index in links_, or -1
  uint64_t* wake_word_ = nullptr;      // ours, in our system region
  uint64_t sleep_epoch_ = 0;
  uint64_t doorbells_ = 0;
  bool peers_can_wake_ = true;
};

}  // namespace remora
