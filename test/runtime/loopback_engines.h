// LoopbackEngines: N in-process nodes on a LoopbackNetwork, each with real
// Engines (channel, messenger, RPC endpoint, scratch region) as Node builds
// them, plus one data region per node. For the runtime suites.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "fabric/loopback/loopback_fabric.h"
#include "remora/msg/messenger.h"
#include "remora/msg/rpc.h"
#include "remora/node/engine.h"

namespace remora::testing {

// Clocks and fault hooks of the engines' messaging (all optional).
struct LoopbackEnginesOptions {
  // For every Messenger and RpcEndpoint (e.g. a simulator's virtual clock).
  std::function<uint64_t()> now_ns;
  // Per node, after now_ns is filled in: further messenger options (e.g.
  // MessengerOptions::refuse_send).
  std::function<void(NodeId, MessengerOptions&)> messenger;
};

class LoopbackEngines {
 public:
  static constexpr uint64_t kScratchSize = 4 << 20;  // as Node::kScratchSize
  static constexpr uint32_t kRingSize = 16 << 10;

  // Registers further regions of node n before the nodes exchange their
  // info (e.g. the replica regions of the transaction store).
  using ExtraRegions = std::function<Status(NodeId n, Fabric& f)>;

  static Result<std::unique_ptr<LoopbackEngines>> create(uint32_t nodes, uint32_t threads = 1,
                                                         uint64_t data_size = 1 << 20,
                                                         ExtraRegions extra = {},
                                                         LoopbackEnginesOptions options = {}) {
    auto layout = SystemLayout::create(nodes, threads, kRingSize);
    if (!layout.ok()) return layout.status();
    std::unique_ptr<LoopbackEngines> c(new LoopbackEngines());
    c->extra_ = std::move(extra);
    c->options_ = std::move(options);
    REMORA_RETURN_IF_ERROR(c->build(nodes, threads, data_size, *layout));
    return c;
  }

  LoopbackNetwork& net() { return *net_; }
  LoopbackFabric& fabric(NodeId n) { return *nodes_[n].fabric; }
  Engine& engine(NodeId n, uint32_t t = 0) { return *nodes_[n].engines[t]; }
  LocalRegion& data(NodeId n) { return *nodes_[n].data; }
  static GAddr data_addr(NodeId n, uint32_t offset) { return GAddr(region_id(n, 1), offset); }

 private:
  struct Node {
    std::unique_ptr<LoopbackFabric> fabric;
    LocalRegion* data = nullptr;
    std::vector<std::unique_ptr<Engine>> engines;  // destroyed before the fabric
  };

  LoopbackEngines() : net_(LoopbackNetwork::create()) {}

  Status build(uint32_t nodes, uint32_t threads, uint64_t data_size, const SystemLayout& layout) {
    nodes_.resize(nodes);
    for (NodeId n = 0; n < nodes; ++n)
      REMORA_RETURN_IF_ERROR(build_node(n, threads, data_size, layout));
    for (NodeId a = 0; a < nodes; ++a)
      for (NodeId b = 0; b < nodes; ++b) {
        auto info = nodes_[b].fabric->local_info();
        if (!info.ok()) return info.status();
        REMORA_RETURN_IF_ERROR(nodes_[a].fabric->add_peer(b, *info));
      }
    for (NodeId n = 0; n < nodes; ++n) REMORA_RETURN_IF_ERROR(attach(n, nodes, layout));
    return Status::OK();
  }

  Status build_node(NodeId n, uint32_t threads, uint64_t data_size, const SystemLayout& layout) {
    auto f = LoopbackFabric::create(net_, n);
    if (!f.ok()) return f.status();
    Node& node = nodes_[n];
    node.fabric = std::move(*f);
    auto sys = node.fabric->register_region(system_region_id(n), layout.total_size());
    if (!sys.ok()) return sys.status();
    auto data = node.fabric->register_region(region_id(n, 1), data_size);
    if (!data.ok()) return data.status();
    node.data = *data;
    if (extra_) REMORA_RETURN_IF_ERROR(extra_(n, *node.fabric));
    for (uint32_t t = 0; t < threads; ++t) {
      auto scratch = node.fabric->register_region(region_id(n, 0x8000 + t), kScratchSize);
      if (!scratch.ok()) return scratch.status();
      auto ch = node.fabric->create_channel(t);
      if (!ch.ok()) return ch.status();
      node.engines.push_back(std::make_unique<Engine>(t, n, std::move(*ch), *scratch));
    }
    return Status::OK();
  }

  Status attach(NodeId n, uint32_t nodes, const SystemLayout& layout) {
    std::vector<NodeId> peers;
    for (NodeId p = 0; p < nodes; ++p)
      if (p != n) peers.push_back(p);
    for (auto& e : nodes_[n].engines) {
      MessengerOptions mo;
      mo.now_ns = options_.now_ns;
      if (options_.messenger) options_.messenger(n, mo);
      auto m = Messenger::create(*nodes_[n].fabric, e->channel(), n, peers, e->index(), layout, mo);
      if (!m.ok()) return m.status();
      RpcOptions ro;
      ro.now_ns = options_.now_ns;
      auto rpc = RpcEndpoint::create(**m, ro);
      if (!rpc.ok()) return rpc.status();
      REMORA_RETURN_IF_ERROR(e->attach_messaging(std::move(*m), std::move(*rpc)));
    }
    return Status::OK();
  }

  std::shared_ptr<LoopbackNetwork> net_;
  ExtraRegions extra_;
  LoopbackEnginesOptions options_;
  std::vector<Node> nodes_;
};

}  // namespace remora::testing
