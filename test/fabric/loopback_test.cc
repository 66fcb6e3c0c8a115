// LoopbackFabric: the contracts of fabric.h, plus fault injection.
#include "fabric/loopback/loopback_fabric.h"

#include "fabric/loopback/loopback_channel.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <cstring>

#include "support/status_matchers.h"

namespace remora {
namespace {

constexpr uint64_t kSize = 4096;

class LoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net_ = LoopbackNetwork::create();
    for (NodeId n : {0, 1}) {
      auto f = LoopbackFabric::create(net_, n);
      ASSERT_OK(f);
      fab_[n] = std::move(f.value());
      auto r = fab_[n]->register_region(region_id(n, 1), kSize);
      ASSERT_OK(r);
      mem_[n] = r.value()->data;
      auto ch = fab_[n]->create_channel(0);
      ASSERT_OK(ch);
      ch_[n] = std::move(ch.value());
    }
    connect(0, 1);
    connect(1, 0);
  }
  void connect(NodeId a, NodeId b) {
    auto info = fab_[b]->local_info();
    ASSERT_OK(info);
    ASSERT_OK(fab_[a]->add_peer(b, info.value()));
  }
  WorkRequest wr(Op op, uint32_t remote_off, uint32_t local_off, uint32_t len, uint64_t id) {
    return WorkRequest{op, 1, GAddr(region_id(1, 1), remote_off), mem_[0] + local_off, len,
                       0, 0, id};
  }
  std::vector<Completion> drain(NodeId n) {
    std::array<Completion, 16> out;
    size_t got = ch_[n]->poll(out);
    return {out.begin(), out.begin() + static_cast<ptrdiff_t>(got)};
  }

  std::shared_ptr<LoopbackNetwork> net_;
  std::unique_ptr<LoopbackFabric> fab_[2];
  std::unique_ptr<Channel> ch_[2];
  std::byte* mem_[2] = {};
};

TEST_F(LoopbackTest, RegionsAreZeroedAlignedAndChecked) {
  EXPECT_EQ(reinterpret_cast<uintptr_t>(mem_[0]) % 64, 0u);
  for (uint64_t i = 0; i < kSize; ++i) ASSERT_EQ(mem_[0][i], std::byte{0});
  EXPECT_EQ(fab_[0]->register_region(region_id(0, 1), 64).status().code(),
            Code::kInvalidArgument);  // duplicate
  EXPECT_EQ(fab_[0]->register_region(region_id(1, 7), 64).status().code(),
            Code::kInvalidArgument);  // another node's id space
  EXPECT_EQ(fab_[0]->register_region(region_id(0, 2), 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(fab_[0]->local_region(region_id(0, 1))->size, kSize);
  EXPECT_EQ(fab_[0]->local_region(region_id(0, 9)), nullptr);
  EXPECT_EQ(LoopbackFabric::create(net_, 0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(fab_[0]->create_channel(0).status().code(), Code::kInvalidArgument);
}

// The double's event fd is an eventfd that only doorbells write; arm()
// refuses while a doorbell or a completion is pending.
TEST_F(LoopbackTest, DoorbellsMakeTheEventFdReadable) {
  const int fd = ch_[1]->event_fd();
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(ch_[1]->arm());
  ASSERT_OK(ch_[0]->doorbell(1));
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_FALSE(ch_[1]->arm()) << "rung before arming: poll again";
  EXPECT_TRUE(ch_[1]->arm()) << "consumed by the previous arm()";
  EXPECT_EQ(::poll(&p, 1, 0), 0);
}

TEST_F(LoopbackTest, PeerWordsAreMappedAndChecked) {
  const GAddr a(region_id(1, 1), 64);
  const std::atomic<uint64_t>* w = ch_[0]->map_peer_word(1, a);
  ASSERT_NE(w, nullptr);
  std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(fab_[1]->local_region(region_id(1, 1))->data + 64))
      .store(77);
  EXPECT_EQ(w->load(), 77u);
  EXPECT_EQ(ch_[0]->map_peer_word(1, GAddr(region_id(1, 1), 60)), nullptr) << "unaligned";
  EXPECT_EQ(ch_[0]->map_peer_word(1, GAddr(region_id(1, 1), kSize)), nullptr) << "outside";
  EXPECT_EQ(ch_[0]->map_peer_word(7, a), nullptr) << "unknown peer";
  EXPECT_FALSE(ch_[0]->writes_wake(1));
}

TEST_F(LoopbackTest, PeerInfoRoundTripsAndListsRegions) {
  auto regions = fab_[0]->peer_regions(1);
  ASSERT_EQ(regions.size(), 1u);
  EXPECT_EQ(regions[0].id, region_id(1, 1));
  EXPECT_EQ(regions[0].size, kSize);
  EXPECT_TRUE(fab_[0]->peer_alive(1));
  EXPECT_TRUE(fab_[0]->peer_regions(5).empty());
}

TEST_F(LoopbackTest, MalformedPeerInfoIsRefusedAndChangesNothing) {
  auto f2 = LoopbackFabric::create(net_, 2);
  ASSERT_OK(f2);
  ASSERT_OK(f2.value()->register_region(region_id(2, 1), 128));
  auto good = f2.value()->local_info();
  ASSERT_OK(good);
  std::vector<std::vector<uint8_t>> bad;
  bad.push_back({});                                                // empty
  bad.push_back({good->begin(), good->begin() + 10});               // truncated header
  bad.push_back({good->begin(), good->end() - 1});                  // truncated entry
  bad.push_back(good.value()), bad.back()[0] ^= 0xff;               // magic
  bad.push_back(good.value()), bad.back()[8] = 2;                   // region count
  bad.push_back(good.value()), bad.back()[24] = 0x40;               // region size unknown
  bad.push_back(good.value()), bad.back()[16] = 5;                  // region id not in network
  for (size_t i = 0; i < bad.size(); ++i) {
    Status s = fab_[0]->add_peer(2, bad[i]);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << "case " << i << ": " << s.to_string();
    EXPECT_TRUE(fab_[0]->peer_regions(2).empty()) << "case " << i;
  }
  // Info of node 2 presented as node 1's: refused, node 1 stays as it was.
  EXPECT_EQ(fab_[0]->add_peer(1, good.value()).code(), Code::kInvalidArgument);
  EXPECT_EQ(fab_[0]->peer_regions(1).size(), 1u);
  EXPECT_OK(fab_[0]->add_peer(2, good.value()));
  EXPECT_EQ(fab_[0]->peer_regions(2).size(), 1u);
}

TEST_F(LoopbackTest, WriteThenReadBackWithCompletions) {
  std::memcpy(mem_[0], "hello, remote!", 15);
  std::array<WorkRequest, 2> batch{wr(Op::kWrite, 100, 0, 15, 7), wr(Op::kRead, 100, 200, 15, 8)};
  ASSERT_OK(ch_[0]->post(batch));
  EXPECT_EQ(ch_[0]->in_flight(), 2u);
  EXPECT_EQ(std::memcmp(mem_[1] + 100, "hello, remote!", 15), 0);
  EXPECT_EQ(std::memcmp(mem_[0] + 200, "hello, remote!", 15), 0);
  auto done = drain(0);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].wr_id, 7u);
  EXPECT_EQ(done[1].wr_id, 8u);
  EXPECT_EQ(done[0].code, Code::kOk);
  EXPECT_EQ(done[0].peer, 1);
  EXPECT_EQ(ch_[0]->in_flight(), 0u);
  EXPECT_TRUE(drain(0).empty());
}

TEST_F(LoopbackTest, RemoteOutOfBoundsIsRefusedNamingTheAddress) {
  Status s = ch_[0]->post(std::array{wr(Op::kWrite, kSize - 8, 0, 16, 1)});
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("r65537+0xff8"), std::string::npos) << s.to_string();
  WorkRequest unknown = wr(Op::kRead, 0, 0, 8, 2);
  unknown.remote = GAddr(region_id(1, 9), 0);
  EXPECT_EQ(ch_[0]->post(std::array{unknown}).code(), Code::kOutOfRange);
  WorkRequest foreign = wr(Op::kRead, 0, 0, 8, 2);
  foreign.remote = GAddr(region_id(0, 1), 0);  // our own region, not node 1's
  EXPECT_EQ(ch_[0]->post(std::array{foreign}).code(), Code::kOutOfRange);
  EXPECT_EQ(ch_[0]->in_flight(), 0u);
}

TEST_F(LoopbackTest, LocalBufferOutsideRegisteredMemoryIsRefused) {
  std::array<std::byte, 16> stack_buf{};
  WorkRequest w = wr(Op::kWrite, 0, 0, 16, 1);
  w.local = stack_buf.data();
  Status s = ch_[0]->post(std::array{w});
  EXPECT_EQ(s.code(), Code::kOutOfRange) << s.to_string();
  EXPECT_NE(s.message().find("local buffer"), std::string::npos);
  EXPECT_EQ(ch_[0]->post(std::array{wr(Op::kRead, 0, kSize - 4, 8, 1)}).code(),
            Code::kOutOfRange);  // straddles the end of the local region
}

TEST_F(LoopbackTest, OneBadRequestPostsNothingFromTheBatch) {
  std::memset(mem_[0], 0xab, 8);
  std::array<WorkRequest, 2> batch{wr(Op::kWrite, 0, 0, 8, 1), wr(Op::kWrite, kSize, 0, 8, 2)};
  Status s = ch_[0]->post(batch);
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("request 1"), std::string::npos) << s.to_string();
  EXPECT_EQ(mem_[1][0], std::byte{0});
  EXPECT_EQ(ch_[0]->in_flight(), 0u);
}

TEST_F(LoopbackTest, CompareAndSwapAndFetchAndAdd) {
  uint64_t v = 5;
  std::memcpy(mem_[1] + 64, &v, 8);
  WorkRequest cas = wr(Op::kCas, 64, 0, 8, 1);
  cas.compare = 5;
  cas.operand = 9;
  ASSERT_OK(ch_[0]->post(std::array{cas}));
  uint64_t old = 0;
  std::memcpy(&old, mem_[0], 8);
  EXPECT_EQ(old, 5u);
  std::memcpy(&v, mem_[1] + 64, 8);
  EXPECT_EQ(v, 9u);
  ASSERT_OK(ch_[0]->post(std::array{cas}));  // expects 5, finds 9: no swap
  std::memcpy(&old, mem_[0], 8);
  EXPECT_EQ(old, 9u);
  WorkRequest faa = wr(Op::kFaa, 64, 8, 8, 2);
  faa.operand = 100;
  ASSERT_OK(ch_[0]->post(std::array{faa}));
  std::memcpy(&old, mem_[0] + 8, 8);
  std::memcpy(&v, mem_[1] + 64, 8);
  EXPECT_EQ(old, 9u);
  EXPECT_EQ(v, 109u);
  EXPECT_EQ(drain(0).size(), 3u);
}

TEST_F(LoopbackTest, AtomicsNeedAlignmentAndLengthEight) {
  EXPECT_EQ(ch_[0]->post(std::array{wr(Op::kCas, 4, 0, 8, 1)}).code(), Code::kInvalidArgument);
  EXPECT_EQ(ch_[0]->post(std::array{wr(Op::kFaa, 8, 0, 4, 1)}).code(), Code::kInvalidArgument);
  EXPECT_EQ(ch_[0]->post(std::array{wr(Op::kRead, 8, 0, 0, 1)}).code(), Code::kInvalidArgument);
}

TEST_F(LoopbackTest, UnknownAndGonePeers) {
  WorkRequest w = wr(Op::kWrite, 0, 0, 8, 1);
  w.peer = 7;
  EXPECT_EQ(ch_[0]->post(std::array{w}).code(), Code::kNotFound);
  ASSERT_OK(ch_[0]->post(std::array{wr(Op::kWrite, 0, 0, 8, 1)}));
  fab_[0]->mark_peer_gone(1, "lease expired");
  EXPECT_FALSE(fab_[0]->peer_alive(1));
  auto done = drain(0);  // queued before the peer went: fails now
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].code, Code::kPeerGone);
  Status s = ch_[0]->post(std::array{wr(Op::kWrite, 0, 0, 8, 2)});
  EXPECT_EQ(s.code(), Code::kPeerGone);
  EXPECT_NE(s.message().find("lease expired"), std::string::npos);
}

TEST_F(LoopbackTest, DestroyedPeerFabricLooksGone) {
  ch_[1].reset();
  fab_[1].reset();
  EXPECT_FALSE(fab_[0]->peer_alive(1));
  EXPECT_EQ(ch_[0]->post(std::array{wr(Op::kRead, 0, 0, 8, 1)}).code(), Code::kPeerGone);
}

TEST_F(LoopbackTest, DroppedWritesCompleteOkButNeverLand) {
  std::memset(mem_[0], 0x11, 8);
  net_->drop_next_writes(1, 2);
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_OK(ch_[0]->post(std::array{wr(Op::kWrite, 8 * id, 0, 8, id)}));
  EXPECT_EQ(mem_[1][8], std::byte{0});
  EXPECT_EQ(mem_[1][16], std::byte{0});
  EXPECT_EQ(mem_[1][24], std::byte{0x11});  // the third write landed
  for (const Completion& c : drain(0)) EXPECT_EQ(c.code, Code::kOk);
}

TEST_F(LoopbackTest, CorruptFlipsOneByteOfTheNextWrite) {
  std::memset(mem_[0], 0x22, 16);
  net_->corrupt_next_write(1, 3);
  ASSERT_OK(ch_[0]->post(std::array{wr(Op::kWrite, 0, 0, 16, 1)}));
  ASSERT_OK(ch_[0]->post(std::array{wr(Op::kWrite, 32, 0, 16, 2)}));
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(mem_[1][i], i == 3 ? std::byte{0xdd} : std::byte{0x22}) << i;
    EXPECT_EQ(mem_[1][32 + i], std::byte{0x22}) << i;
  }
}

TEST_F(LoopbackTest, DelayedCompletionsAppearAfterKPolls) {
  net_->delay_completions(1, 3);
  ASSERT_OK(ch_[0]->post(std::array{wr(Op::kWrite, 0, 0, 8, 1)}));
  EXPECT_EQ(mem_[1][0], mem_[0][0]);  // the data moved; only the ack is late
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(drain(0).empty()) << "poll " << i;
  EXPECT_EQ(drain(0).size(), 1u);
  net_->clear_faults(1);
  ASSERT_OK(ch_[0]->post(std::array{wr(Op::kWrite, 0, 0, 8, 2)}));
  EXPECT_EQ(drain(0).size(), 1u);
}

// A LoopbackSim takes over: operations wait in their (channel, peer) lane
// until the simulator lands them, then until it completes them, in order.
TEST_F(LoopbackTest, SimulatorLandsAndCompletesEachLaneInOrder) {
  struct Recorder final : LoopbackSim {
    std::vector<NodeId> peers;
    void queued(LoopbackChannel&, NodeId peer) override { peers.push_back(peer); }
  } sim;
  net_->set_sim(&sim);
  std::memset(mem_[0], 0x11, 8);
  std::memset(mem_[0] + 8, 0x22, 8);
  ASSERT_OK(ch_[0]->post(std::array{wr(Op::kWrite, 0, 0, 8, 1), wr(Op::kWrite, 0, 8, 8, 2)}));
  EXPECT_EQ(sim.peers, (std::vector<NodeId>{1, 1}));
  EXPECT_EQ(ch_[0]->in_flight(), 2u);
  auto& lc = static_cast<LoopbackChannel&>(*ch_[0]);
  EXPECT_EQ(mem_[1][0], std::byte{0});  // nothing landed yet
  EXPECT_FALSE(lc.sim_complete(1));     // nothing to complete before it lands
  ASSERT_TRUE(lc.sim_execute(1));
  EXPECT_EQ(mem_[1][0], std::byte{0x11});
  EXPECT_TRUE(drain(0).empty());  // landed, not yet completed
  ASSERT_TRUE(lc.sim_execute(1));
  EXPECT_EQ(mem_[1][0], std::byte{0x22});  // the second WRITE landed after the first
  EXPECT_FALSE(lc.sim_execute(1));
  ASSERT_TRUE(lc.sim_complete(1));
  ASSERT_TRUE(lc.sim_complete(1));
  auto c = drain(0);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].wr_id, 1u);
  EXPECT_EQ(c[1].wr_id, 2u);
  EXPECT_EQ(ch_[0]->in_flight(), 0u);
  net_->set_sim(nullptr);
  ASSERT_OK(ch_[0]->post(std::array{wr(Op::kWrite, 0, 0, 8, 3)}));
  EXPECT_EQ(mem_[1][0], std::byte{0x11});  // inside post() again
  EXPECT_EQ(drain(0).size(), 1u);
}

}  // namespace
}  // namespace remora
