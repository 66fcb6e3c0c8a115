// Control-plane wire format: round trips, and every malformed header or
// hello refused with a clear error before it is used.
#include "node/control_msg.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "node/control_test_util.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

class ControlMsgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    a_ = Fd(sv[0]);
    b_ = Fd(sv[1]);
  }
  // Sends `bytes` on a_ and reads one message from b_.
  Result<ControlMsg> feed(const std::vector<uint8_t>& bytes, std::chrono::milliseconds wait = 1s) {
    Status st = send_raw(a_.get(), bytes);
    if (!st.ok()) return st;
    return read_within(b_.get(), wait);
  }
  static void expect_invalid(const Result<ControlMsg>& m, const std::string& words) {
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), Code::kInvalidArgument) << m.status().to_string();
    EXPECT_NE(m.status().message().find(words), std::string::npos) << m.status().to_string();
  }

  Fd a_, b_;
};

TEST_F(ControlMsgTest, EveryTypeRoundTrips) {
  const std::vector<uint8_t> big(100000, 0x5a);
  for (uint16_t t = 1; t <= 5; ++t) {
    for (const auto& payload : {std::vector<uint8_t>{}, bytes_of("x"), big}) {
      ASSERT_OK(write_control(a_.get(), static_cast<ControlType>(t), payload));
      auto m = read_within(b_.get(), 1s);
      ASSERT_OK(m);
      EXPECT_EQ(static_cast<uint16_t>(m->type), t);
      EXPECT_EQ(m->payload, payload);
    }
  }
}

TEST_F(ControlMsgTest, HeaderLayoutOnTheWire) {
  ASSERT_OK(write_control(a_.get(), ControlType::kBarrier, bytes_of("12345678")));
  uint8_t raw[16 + 8];
  ASSERT_OK(recv_exact(b_.get(), raw, Clock::now() + 1s));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(raw), 4), "CTRL");
  EXPECT_EQ(raw[4] | raw[5] << 8, kControlVersion);
  EXPECT_EQ(raw[6] | raw[7] << 8, 4);  // kBarrier
  EXPECT_EQ(raw[8], 8);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(raw + 16), 8), "12345678");
}

TEST_F(ControlMsgTest, BadMagicIsRefused) {
  expect_invalid(feed(raw_header(0xdeadbeef, kControlVersion, 3, 0)), "bad control magic");
  // A stray HTTP request is not a remora node either.
  expect_invalid(feed(bytes_of("GET / HTTP/1.1\r\n\r\n")), "bad control magic");
}

TEST_F(ControlMsgTest, OtherVersionIsRefused) {
  expect_invalid(feed(raw_header(kControlMagic, kControlVersion + 1, 3, 0)), "version");
}

TEST_F(ControlMsgTest, UnknownTypesAreRefused) {
  expect_invalid(feed(raw_header(kControlMagic, kControlVersion, 0, 0)), "unknown control type 0");
  expect_invalid(feed(raw_header(kControlMagic, kControlVersion, 6, 0)), "unknown control type 6");
  expect_invalid(feed(raw_header(kControlMagic, kControlVersion, 0xffff, 0)),
                 "unknown control type");
}

TEST_F(ControlMsgTest, OversizedPayloadIsRefusedBeforeReadingIt) {
  const auto start = Clock::now();
  expect_invalid(feed(raw_header(kControlMagic, kControlVersion, 1, kMaxControlPayload + 1), 5s),
                 "exceeds");
  expect_invalid(feed(raw_header(kControlMagic, kControlVersion, 1, 0xffffffff), 5s), "exceeds");
  EXPECT_LT(Clock::now() - start, 2s);  // did not wait for the payload
}

TEST_F(ControlMsgTest, LargestPayloadIsAccepted) {
  std::vector<uint8_t> payload(kMaxControlPayload, 7);
  std::thread writer([&] { EXPECT_OK(write_control(a_.get(), ControlType::kHello, payload)); });
  auto m = read_within(b_.get(), 10s);
  writer.join();
  ASSERT_OK(m);
  EXPECT_EQ(m->payload.size(), kMaxControlPayload);
}

TEST_F(ControlMsgTest, TruncatedHeaderThenCloseIsPeerGone) {
  auto h = raw_header(kControlMagic, kControlVersion, 3, 0);
  h.resize(10);
  ASSERT_OK(send_raw(a_.get(), h));
  a_ = Fd();
  auto m = read_within(b_.get(), 1s);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kPeerGone) << m.status().to_string();
}

TEST_F(ControlMsgTest, TruncatedPayloadThenCloseIsPeerGone) {
  auto h = raw_header(kControlMagic, kControlVersion, 1, 100);
  h.resize(h.size() + 40, 0);
  ASSERT_OK(send_raw(a_.get(), h));
  a_ = Fd();
  auto m = read_within(b_.get(), 1s);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kPeerGone) << m.status().to_string();
}

TEST_F(ControlMsgTest, SilenceAndStalledPayloadTimeOutAtTheDeadline) {
  auto start = Clock::now();
  auto m = read_within(b_.get(), 100ms);
  EXPECT_EQ(m.status().code(), Code::kTimeout) << m.status().to_string();
  auto h = raw_header(kControlMagic, kControlVersion, 1, 100);
  h.resize(h.size() + 40, 0);
  m = feed(h, 100ms);
  EXPECT_EQ(m.status().code(), Code::kTimeout) << m.status().to_string();
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(HelloTest, RoundTrips) {
  std::vector<uint8_t> info(5000);
  for (size_t i = 0; i < info.size(); ++i) info[i] = static_cast<uint8_t>(i * 31);
  for (const Hello& in : {Hello{"c", 0, {}}, Hello{std::string(256, 'z'), 4095, info}}) {
    auto out = decode_hello(encode_hello(in));
    ASSERT_OK(out);
    EXPECT_EQ(out->cluster_id, in.cluster_id);
    EXPECT_EQ(out->node, in.node);
    EXPECT_EQ(out->fabric_info, in.fabric_info);
  }
}

TEST(HelloTest, EveryTruncationIsMalformed) {
  const auto full = hello_payload("cluster-a", 3, {9, 8, 7, 6});
  for (size_t n = 0; n < full.size(); ++n) {
    auto h = decode_hello(std::span(full).first(n));
    ASSERT_FALSE(h.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(h.status().code(), Code::kInvalidArgument);
    EXPECT_NE(h.status().message().find("malformed hello"), std::string::npos);
  }
}

TEST(HelloTest, TrailingBytesAreMalformed) {
  auto p = hello_payload("cluster-a", 3);
  p.push_back(0);
  EXPECT_EQ(decode_hello(p).status().code(), Code::kInvalidArgument);
}

TEST(HelloTest, OversizedOrLyingLengthsAreMalformed) {
  // A cluster id longer than 256 bytes.
  EXPECT_EQ(decode_hello(hello_payload(std::string(257, 'a'), 1)).status().code(),
            Code::kInvalidArgument);
  // Length fields that claim more than the message holds, up to 4 GiB.
  for (uint32_t claim : {5u, 1000u, 0x80000000u, 0xffffffffu}) {
    Encoder e;
    e.put<uint32_t>(claim);  // cluster id length
    e.put<uint32_t>(0x41414141);
    EXPECT_EQ(decode_hello(e.bytes()).status().code(), Code::kInvalidArgument) << claim;
    Encoder f;
    f.put_string("c");
    f.put<uint16_t>(1);
    f.put<uint32_t>(claim);  // fabric info length
    f.put<uint8_t>(0);
    EXPECT_EQ(decode_hello(f.bytes()).status().code(), Code::kInvalidArgument) << claim;
  }
}

}  // namespace
}  // namespace remora::testing
