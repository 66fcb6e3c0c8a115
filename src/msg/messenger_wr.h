// wr_id payloads of the Messenger's own WRITEs (owner tag WrOwner::kMessenger).
#pragma once

#include <cstdint>

#include "remora/fabric/types.h"
#include "remora/msg/wr_tag.h"

namespace remora {

struct MessengerWr {
  enum Kind : uint8_t { kData = 1, kHead = 2 };
  Kind kind = kData;
  NodeId peer = kInvalidNode;

  uint64_t encode() const {
    return make_wr_id(WrOwner::kMessenger, (uint64_t{kind} << 16) | peer);
  }
  static MessengerWr decode(uint64_t wr_id) {
    const uint64_t p = wr_payload(wr_id);
    return MessengerWr{static_cast<Kind>((p >> 16) & 0xff), static_cast<NodeId>(p & 0xffff)};
  }
};

}  // namespace remora
