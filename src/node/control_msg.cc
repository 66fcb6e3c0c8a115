#include "node/control_msg.h"

#include <fmt/format.h>

#include <cstring>

#include "common/codec.h"

namespace remora {

Status write_control(int fd, ControlType type, std::span<const uint8_t> payload) {
  ControlHeader h{kControlMagic, kControlVersion, static_cast<uint16_t>(type),
                  static_cast<uint32_t>(payload.size()), 0};
  std::vector<uint8_t> buf(sizeof(h) + payload.size());
  std::memcpy(buf.data(), &h, sizeof(h));
  if (!payload.empty()) std::memcpy(buf.data() + sizeof(h), payload.data(), payload.size());
  return send_all(fd, buf);
}

Result<ControlMsg> read_control(int fd, Clock::time_point deadline) {
  ControlHeader h{};
  REMORA_RETURN_IF_ERROR(recv_exact(fd, {reinterpret_cast<uint8_t*>(&h), sizeof(h)}, deadline));
  if (h.magic != kControlMagic)
    return Status::InvalidArgument(fmt::format("bad control magic {:#x} (not a remora node?)", h.magic));
  if (h.version != kControlVersion)
    return Status::InvalidArgument(fmt::format("control protocol version {} (want {})", h.version, kControlVersion));
  if (h.type < 1 || h.type > 5) return Status::InvalidArgument(fmt::format("unknown control type {}", h.type));
  if (h.length > kMaxControlPayload)
    return Status::InvalidArgument(fmt::format("control payload of {} bytes exceeds {}", h.length, kMaxControlPayload));
  ControlMsg m;
  m.type = static_cast<ControlType>(h.type);
  m.payload.resize(h.length);
  REMORA_RETURN_IF_ERROR(recv_exact(fd, m.payload, deadline));
  return m;
}

std::vector<uint8_t> encode_hello(const Hello& h) {
  Encoder e;
  e.put_string(h.cluster_id);
  e.put<uint16_t>(h.node);
  e.put_bytes(h.fabric_info);
  return std::move(e.bytes());
}

Result<Hello> decode_hello(std::span<const uint8_t> payload) {
  Decoder d(payload);
  Hello h;
  if (!d.get_string(&h.cluster_id, 256) || !d.get(&h.node) ||
      !d.get_bytes(&h.fabric_info, kMaxControlPayload) || !d.done())
    return Status::InvalidArgument("malformed hello");
  return h;
}

}  // namespace remora
