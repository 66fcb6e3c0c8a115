// Messenger: control path (creation, completions, status). The hot path is
// in messenger_datapath.cc.
#include "remora/msg/messenger.h"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "msg/messenger_wr.h"
#include "remora/msg/wr_tag.h"

namespace remora {

Messenger::Messenger(Fabric& fabric, Channel& channel, NodeId self, std::vector<NodeId> peers,
                     uint32_t thread, const SystemLayout& layout, MessengerOptions options)
    : fabric_(fabric),
      channel_(channel),
      self_(self),
      peers_(std::move(peers)),
      thread_(thread),
      layout_(layout),
      options_(std::move(options)) {}

Messenger::~Messenger() = default;

Result<std::unique_ptr<Messenger>> Messenger::create(Fabric& fabric, Channel& channel,
                                                     NodeId self, std::vector<NodeId> peers,
                                                     uint32_t thread, const SystemLayout& layout,
                                                     MessengerOptions options) {
  if (thread >= layout.threads() || self >= layout.node_slots())
    return Status::InvalidArgument(fmt::format("node {} thread {} is outside the layout ({} x {})",
                                               self, thread, layout.node_slots(),
                                               layout.threads()));
  std::unique_ptr<Messenger> m(
      new Messenger(fabric, channel, self, std::move(peers), thread, layout, std::move(options)));
  REMORA_RETURN_IF_ERROR(m->init_links());
  return m;
}

Status Messenger::init_links() {
  const LocalRegion* sys = fabric_.local_region(system_region_id(self_));
  if (sys == nullptr || sys->size < layout_.total_size())
    return Status::InvalidArgument(fmt::format(
        "node {} has no registered system region of >= {} bytes", self_, layout_.total_size()));
  link_of_node_.assign(layout_.node_slots(), -1);
  links_.resize(peers_.size());
  for (size_t i = 0; i < peers_.size(); ++i) {
    const NodeId p = peers_[i];
    if (p == self_ || p >= layout_.node_slots() || link_of_node_[p] != -1)
      return Status::InvalidArgument(fmt::format("peer {} is self, outside the layout or repeated", p));
    const auto regions = fabric_.peer_regions(p);
    const bool has_sys = std::any_of(regions.begin(), regions.end(), [&](const RegionInfo& r) {
      return r.id == system_region_id(p) && r.size >= layout_.total_size();
    });
    if (!has_sys)
      return Status::NotFound(fmt::format(
          "peer {} exports no system region of >= {} bytes (add_peer first?)", p,
          layout_.total_size()));
    link_of_node_[p] = static_cast<int32_t>(i);
    Link& l = links_[i];
    l.peer = p;
    l.out.mirror = sys->data + layout_.outgoing_mirror(p, thread_);
    l.out.head = reinterpret_cast<uint64_t*>(sys->data + layout_.head_slot(p, thread_));
    l.out.remote = GAddr(system_region_id(p), layout_.incoming_ring(self_, thread_));
    l.in.ring = sys->data + layout_.incoming_ring(p, thread_);
    l.in.staging = reinterpret_cast<uint64_t*>(sys->data + layout_.head_staging(p, thread_));
    l.in.remote_head = GAddr(system_region_id(p), layout_.head_slot(self_, thread_));
    l.out.peer_wake = channel_.map_peer_word(p, GAddr(system_region_id(p), layout_.wake_word(thread_)));
    // Wake-ups are symmetric: the transport that maps the peer's memory to
    // us maps ours to it, and writes that wake it wake us.
    if (!l.out.peer_wake && !channel_.writes_wake(p)) peers_can_wake_ = false;
  }
  wake_word_ = reinterpret_cast<uint64_t*>(sys->data + layout_.wake_word(thread_));
  return Status::OK();
}

Messenger::Link* Messenger::link(NodeId peer) {
  if (peer >= link_of_node_.size() || link_of_node_[peer] < 0) return nullptr;
  return &links_[static_cast<size_t>(link_of_node_[peer])];
}

const Messenger::Link* Messenger::link(NodeId peer) const {
  return const_cast<Messenger*>(this)->link(peer);
}

uint64_t Messenger::now_ns() const {
  if (options_.now_ns) return options_.now_ns();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

bool Messenger::owns(uint64_t wr_id) { return wr_owner(wr_id) == WrOwner::kMessenger; }

void Messenger::on_completion(const Completion& c) {
  const MessengerWr wr = MessengerWr::decode(c.wr_id);
  Link* l = link(wr.peer);
  if (l == nullptr) return;
  if (c.code != Code::kOk) {
    Status why(c.code, fmt::format("{} to node {} failed",
                                   wr.kind == MessengerWr::kHead ? "ring head write-back"
                                                                 : "ring write",
                                   wr.peer));
    if (l->failed.ok()) l->failed = why;
    if (wr.kind == MessengerWr::kHead) l->in.write_back_in_flight = false;
    return;
  }
  // A WRITE that did not land inside post() (the check there was early).
  wake_if_asleep(*l);
  if (wr.kind == MessengerWr::kHead) {
    l->in.write_back_in_flight = false;
    maybe_write_back(*l);  // the ring may have moved on while it was in flight
  }
}

Status Messenger::peer_status(NodeId peer) const {
  const Link* l = link(peer);
  if (l == nullptr) return Status::InvalidArgument(fmt::format("node {} is not a peer", peer));
  if (!l->in.broken.ok()) return l->in.broken;
  if (!l->out.broken.ok()) return l->out.broken;
  if (!l->failed.ok()) return l->failed;
  if (!fabric_.peer_alive(peer)) return Status::PeerGone(fmt::format("node {} is gone", peer));
  return Status::OK();
}

Messenger::RingCounters Messenger::counters(NodeId peer) const {
  const Link* l = link(peer);
  if (l == nullptr) return {};
  RingCounters c;
  c.sent = l->out.tail;
  c.head_seen = std::atomic_ref<uint64_t>(*l->out.head).load(std::memory_order_acquire);
  c.consumed = l->in.consumed;
  c.written_back = l->in.written_back;
  c.head_writes = l->in.head_writes;
  c.slow_records = l->in.slow_records;
  return c;
}

}  // namespace remora
