// LoopbackCluster: N in-process nodes on a LoopbackNetwork, each with one
// Channel and one Messenger per thread, all system regions registered and
// every node connected to every other. Used by the ring and RPC suites.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "fabric/loopback/loopback_fabric.h"
#include "remora/msg/messenger.h"

namespace remora::testing {

class LoopbackCluster {
 public:
  static Result<std::unique_ptr<LoopbackCluster>> create(uint32_t nodes, uint32_t threads,
                                                         uint32_t ring_size,
                                                         MessengerOptions options = {}) {
    auto layout = SystemLayout::create(nodes, threads, ring_size);
    if (!layout.ok()) return layout.status();
    std::unique_ptr<LoopbackCluster> c(new LoopbackCluster(layout.value()));
    REMORA_RETURN_IF_ERROR(c->build(nodes, threads, options));
    return c;
  }

  LoopbackNetwork& net() { return *net_; }
  const SystemLayout& layout() const { return layout_; }
  LoopbackFabric& fabric(NodeId n) { return *nodes_[n].fabric; }
  Channel& channel(NodeId n, uint32_t t = 0) { return *nodes_[n].channels[t]; }
  Messenger& messenger(NodeId n, uint32_t t = 0) { return *nodes_[n].messengers[t]; }
  std::byte* system_region(NodeId n) {
    return nodes_[n].fabric->local_region(system_region_id(n))->data;
  }

  // Polls the channel of (n, t) once, routing messenger completions.
  size_t pump(NodeId n, uint32_t t = 0) {
    std::array<Completion, 32> out;
    size_t got = channel(n, t).poll(out);
    for (size_t i = 0; i < got; ++i)
      if (Messenger::owns(out[i].wr_id)) messenger(n, t).on_completion(out[i]);
    return got;
  }

 private:
  struct Node {
    std::unique_ptr<LoopbackFabric> fabric;
    std::vector<std::unique_ptr<Channel>> channels;
    std::vector<std::unique_ptr<Messenger>> messengers;
  };

  explicit LoopbackCluster(const SystemLayout& layout)
      : net_(LoopbackNetwork::create()), layout_(layout) {}

  Status build(uint32_t nodes, uint32_t threads, const MessengerOptions& options) {
    nodes_.resize(nodes);
    for (NodeId n = 0; n < nodes; ++n) {
      auto f = LoopbackFabric::create(net_, n);
      if (!f.ok()) return f.status();
      nodes_[n].fabric = std::move(f.value());
      auto r = nodes_[n].fabric->register_region(system_region_id(n), layout_.total_size());
      if (!r.ok()) return r.status();
      for (uint32_t t = 0; t < threads; ++t) {
        auto ch = nodes_[n].fabric->create_channel(t);
        if (!ch.ok()) return ch.status();
        nodes_[n].channels.push_back(std::move(ch.value()));
      }
    }
    for (NodeId a = 0; a < nodes; ++a)
      for (NodeId b = 0; b < nodes; ++b) {
        if (a == b) continue;
        auto info = nodes_[b].fabric->local_info();
        if (!info.ok()) return info.status();
        REMORA_RETURN_IF_ERROR(nodes_[a].fabric->add_peer(b, info.value()));
      }
    for (NodeId n = 0; n < nodes; ++n) REMORA_RETURN_IF_ERROR(make_messengers(n, nodes, threads, options));
    return Status::OK();
  }

  Status make_messengers(NodeId n, uint32_t nodes, uint32_t threads,
                         const MessengerOptions& options) {
    std::vector<NodeId> peers;
    for (NodeId p = 0; p < nodes; ++p)
      if (p != n) peers.push_back(p);
    for (uint32_t t = 0; t < threads; ++t) {
      auto m = Messenger::create(*nodes_[n].fabric, *nodes_[n].channels[t], n, peers, t, layout_,
                                 options);
      if (!m.ok()) return m.status();
      nodes_[n].messengers.push_back(std::move(m.value()));
    }
    return Status::OK();
  }

  std::shared_ptr<LoopbackNetwork> net_;
  SystemLayout layout_;
  // Messengers and channels are declared inside Node after the fabric and so
  // are destroyed before it.
  std::vector<Node> nodes_;
};

}  // namespace remora::testing
