// Control-plane wire format: bootstrap hello/reject, heartbeats, barriers,
// goodbye. Every message is a 16-byte header plus a payload of at most
// kMaxControlPayload bytes; anything else is refused before it is used.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "node/socket.h"
#include "remora/common/status.h"
#include "remora/fabric/types.h"

namespace remora {

enum class ControlType : uint16_t {
  kHello = 1,      // cluster id, node id, fabric peer info
  kReject = 2,     // reason; the sender closes the connection next
  kHeartbeat = 3,  // empty
  kBarrier = 4,    // u64 barrier number
  kBye = 5,        // clean leave: EOF after this is not a failure
};

struct ControlHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t type;
  uint32_t length;
  uint32_t reserved;
};
static_assert(sizeof(ControlHeader) == 16);
static_assert(std::is_trivially_copyable_v<ControlHeader>);

constexpr uint32_t kControlMagic = 0x4c525443;  // "CTRL"
constexpr uint16_t kControlVersion = 1;
constexpr uint32_t kMaxControlPayload = 16u << 20;

struct ControlMsg {
  ControlType type = ControlType::kHeartbeat;
  std::vector<uint8_t> payload;
};

struct Hello {
  std::string cluster_id;
  NodeId node = kInvalidNode;
  std::vector<uint8_t> fabric_info;
};

Status write_control(int fd, ControlType type, std::span<const uint8_t> payload);
Result<ControlMsg> read_control(int fd, Clock::time_point deadline);

std::vector<uint8_t> encode_hello(const Hello& h);
Result<Hello> decode_hello(std::span<const uint8_t> payload);

}  // namespace remora
