// Fixture pieces for the bootstrap tests: a real Bootstrap on a loopback
// fabric, driven against a test that plays the other node over raw sockets.
#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

#include "fabric/loopback/loopback_fabric.h"
#include "node/bootstrap.h"
#include "node/control_test_util.h"
#include "support/cluster_harness.h"
#include "support/status_matchers.h"

namespace remora::testing {

// What the gone callback reported.
struct GoneLog {
  std::mutex mu;
  std::condition_variable cv;
  NodeId id = kInvalidNode;
  std::string reason;
  bool clean = false;
  int calls = 0;

  Bootstrap::GoneCallback callback() {
    return [this](NodeId n, const std::string& why, bool c) {
      std::lock_guard<std::mutex> g(mu);
      id = n, reason = why, clean = c, ++calls;
      cv.notify_all();
    };
  }
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> g(mu);
    return cv.wait_for(g, timeout, [&] { return calls > 0; });
  }
};

class BootstrapTest : public ::testing::Test {
 protected:
  // A cluster of `nodes` on fresh ports; the Bootstrap under test is `self`.
  void make(NodeId self, uint32_t nodes, uint32_t connect_ms = 3000, uint32_t peer_ms = 2000) {
    ClusterSpec spec;
    spec.nodes = nodes;
    spec.cluster_id = "boot";
    spec.connect_timeout_ms = connect_ms;
    spec.peer_timeout_ms = peer_ms;
    auto cfg = make_config(spec);
    ASSERT_OK(cfg);
    cfg_ = *cfg;
    net_ = LoopbackNetwork::create();
    for (NodeId n = 0; n < nodes; ++n) {
      auto f = LoopbackFabric::create(net_, n);
      ASSERT_OK(f);
      fabrics_.push_back(std::move(*f));
      auto info = fabrics_.back()->local_info();
      ASSERT_OK(info);
      infos_.push_back(*info);
    }
    auto b = Bootstrap::create(cfg_, self, fabrics_[self].get());
    ASSERT_OK(b);
    boot_ = std::move(*b);
    boot_->set_gone_callback(gone_.callback());
    self_ = self;
  }
  // Runs connect_all() on a thread; the result arrives in connected_.
  void start_connect() {
    connected_ =
        std::async(std::launch::async, [this] { return boot_->connect_all(infos_[self_]); });
  }
  Status connect_result(std::chrono::seconds timeout = std::chrono::seconds(10)) {
    if (connected_.wait_for(timeout) != std::future_status::ready)
      return Status::Timeout("connect_all did not return");
    return connected_.get();
  }
  uint16_t port(NodeId n) const { return cfg_.node(n)->port; }
  // Connects to the Bootstrap under test (its listener is up from create()).
  Fd dial() {
    auto fd = connect_tcp("127.0.0.1", port(self_), std::chrono::milliseconds(1000));
    EXPECT_OK(fd);
    return fd.ok() ? std::move(*fd) : Fd();
  }
  std::vector<uint8_t> hello_from(NodeId n, std::string cluster = "boot") {
    return hello_payload(std::move(cluster), n, infos_[n]);
  }

  void TearDown() override {
    if (connected_.valid()) connected_.wait();
    boot_.reset();
  }

  Config cfg_;
  NodeId self_ = 0;
  std::shared_ptr<LoopbackNetwork> net_;
  std::vector<std::unique_ptr<LoopbackFabric>> fabrics_;
  std::vector<std::vector<uint8_t>> infos_;
  std::unique_ptr<Bootstrap> boot_;
  std::future<Status> connected_;
  GoneLog gone_;
};

}  // namespace remora::testing
