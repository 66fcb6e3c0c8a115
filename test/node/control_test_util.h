// Raw control-plane wire access for the control_msg and bootstrap tests: a
// test plays a peer (or a stranger) that may garble every field.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "common/codec.h"
#include "node/control_msg.h"
#include "node/socket.h"

namespace remora::testing {

inline std::vector<uint8_t> raw_header(uint32_t magic, uint16_t version, uint16_t type,
                                       uint32_t length, uint32_t reserved = 0) {
  ControlHeader h{magic, version, type, length, reserved};
  std::vector<uint8_t> out(sizeof(h));
  std::memcpy(out.data(), &h, sizeof(h));
  return out;
}

inline std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }
inline std::string text_of(const ControlMsg& m) { return {m.payload.begin(), m.payload.end()}; }

inline std::vector<uint8_t> hello_payload(std::string cluster, NodeId node,
                                          std::vector<uint8_t> info = {1, 2, 3}) {
  return encode_hello(Hello{std::move(cluster), node, std::move(info)});
}

inline Status send_raw(int fd, const std::vector<uint8_t>& bytes) { return send_all(fd, bytes); }

inline Result<ControlMsg> read_within(int fd, std::chrono::milliseconds ms) {
  return read_control(fd, Clock::now() + ms);
}

}  // namespace remora::testing
