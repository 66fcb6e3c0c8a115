// The fabric: the only layer that talks to a NIC or to UCX.
//
// Life cycle (control path, one thread, before the engine threads start):
//   auto f = Fabric::create(opts);            // backend chosen by opts.transport
//   f->register_region(id, size) ...          // remote-accessible memory
//   f->create_channel(i) for every thread     // per-thread contexts
//   blob = f->local_info();                   // sent to peers by the bootstrap
//   f->add_peer(node, peer_blob) ...          // connects every channel
// Then each engine thread owns one Channel and calls post()/poll() on it with
// no locks. mark_peer_gone() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/types.h"

namespace remora {

struct FabricOptions {
  std::string transport = "ucx";  // "ucx" | "verbs"
  NodeId self = 0;
  // UCX: value for UCX_TLS ("" keeps UCX's default, e.g. shared memory + tcp).
  std::string ucx_tls;
  // verbs (next backend): device name, port, GID index (-1: find from address).
  std::string verbs_device;
  int verbs_port = 1;
  int verbs_gid_index = -1;
};

// Memory registered with the fabric; remote peers may access it if `remote`.
struct LocalRegion {
  RegionId id = 0;
  std::byte* data = nullptr;
  uint64_t size = 0;
  bool contains(const void* p, uint64_t len) const {
    auto* b = static_cast<const std::byte*>(p);
    return b >= data && len <= size && b - data <= static_cast<int64_t>(size - len);
  }
};

// A peer's view of one of our regions (or ours of theirs), as exchanged.
struct RegionInfo {
  RegionId id = 0;
  uint64_t size = 0;
};

// Per-thread context. Not thread-safe: only its owner thread calls it.
class Channel {
 public:
  virtual ~Channel() = default;

  // Posts a batch. Every request is checked first (peer known and alive,
  // remote range inside the peer's region, local buffer inside a registered
  // region, atomics aligned and 8 bytes); if any fails, nothing is posted
  // and the error names the request. Each posted request yields exactly one
  // Completion from poll(), success or error.
  virtual Status post(std::span<const WorkRequest> batch) = 0;

  // Drives the transport (UCX progress) and returns finished completions,
  // at most out.size(). Returns 0 when nothing finished.
  virtual size_t poll(std::span<Completion> out) = 0;

  // Operations posted and not yet returned by poll().
  virtual size_t in_flight() const = 0;

  // Transport events handled on behalf of peers since the last call (e.g.
  // software-emulated one-sided operations over tcp served by poll()). A
  // poll loop counts them as work so it stays awake while it serves.
  virtual size_t take_served() { return 0; }

  // Idle support: an fd that becomes readable when the transport has events,
  // or -1. arm() returns false if events are already pending (poll again).
  virtual int event_fd() = 0;
  virtual bool arm() = 0;

  // Wake-ups (docs/runtime.md, "Sleeping and waking"). A peer whose engine
  // blocks in its event fd learns of a one-sided WRITE into its memory only
  // if the transport raises an event for it (writes_wake) or the writer
  // rings its doorbell.
  //
  // A direct pointer to the 8-byte word at `addr` in `peer`'s memory when
  // this transport maps the peer's memory into our address space (shared
  // memory), so that the word can be read with one load; nullptr if not
  // (or if the range is not an 8-byte aligned word of an exported region).
  virtual const std::atomic<uint64_t>* map_peer_word(NodeId /*peer*/, GAddr /*addr*/) {
    return nullptr;
  }
  // Makes the event fd of `peer`'s channel with our index readable, once,
  // if that channel waits on it; a no-op for a peer already awake. Cheap,
  // unacknowledged, ordered with nothing: senders ring after their WRITE is
  // visible. kUnavailable if the transport has no doorbell.
  virtual Status doorbell(NodeId /*peer*/) {
    return Status::Unavailable("this transport has no doorbell");
  }
  // True if our one-sided WRITEs to `peer` raise an event on its event fd
  // by themselves (UCX over tcp, where the target's progress engine
  // executes them), so no doorbell is needed.
  virtual bool writes_wake(NodeId /*peer*/) const { return false; }

  virtual uint32_t index() const = 0;
};

class Fabric {
 public:
  virtual ~Fabric() = default;

  static Result<std::unique_ptr<Fabric>> create(const FabricOptions& opts);

  // Allocates `size` bytes of zeroed, registered, remote-accessible memory.
  // REQUIRES: id unique on this node, 0 < size <= kMaxRegionSize.
  virtual Result<LocalRegion*> register_region(RegionId id, uint64_t size) = 0;
  virtual const LocalRegion* local_region(RegionId id) const = 0;

  // REQUIRES: called once per index, before local_info().
  virtual Result<std::unique_ptr<Channel>> create_channel(uint32_t index) = 0;

  // Everything a peer needs to reach us: channel addresses, region ids,
  // sizes, addresses and packed remote keys. Opaque, backend-specific bytes.
  virtual Result<std::vector<uint8_t>> local_info() = 0;

  // Validates and installs a peer's local_info() and connects all channels.
  // A malformed blob is refused with kInvalidArgument and changes nothing.
  // Adding our own info (peer == self) gives loopback access to our own
  // regions through the same operations.
  virtual Status add_peer(NodeId peer, std::span<const uint8_t> info) = 0;

  // Regions that the peer exported (empty if unknown).
  virtual std::vector<RegionInfo> peer_regions(NodeId peer) const = 0;

  // Thread-safe. Later posts to the peer fail with kPeerGone; operations in
  // flight to it complete with kPeerGone at the next poll of each channel.
  virtual void mark_peer_gone(NodeId peer, const std::string& why) = 0;
  virtual bool peer_alive(NodeId peer) const = 0;

  virtual std::string name() const = 0;  // "ucx(tls=...)"
};

}  // namespace remora
