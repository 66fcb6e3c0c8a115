// Transaction ids: unique for the life of a cluster (docs/transactions.md).
//
// {epoch, node, thread, seq}: `seq` increases per (node, thread) and never
// repeats within an epoch; the configuration epoch makes ids unique across
// reconfigurations. Printed "<epoch>.<node>.<thread>.<seq>" (the history
// format's "tx" field).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "remora/common/status.h"

namespace remora {

struct TxId {
  uint32_t epoch = 0;
  uint16_t node = 0;
  uint16_t thread = 0;
  uint64_t seq = 0;

  bool operator==(const TxId&) const = default;
  std::string to_string() const;
  // Parses to_string()'s format; kInvalidArgument names what is wrong.
  static Result<TxId> parse(std::string_view text);
};
static_assert(sizeof(TxId) == 16);

struct TxIdHash {
  size_t operator()(const TxId& t) const {
    uint64_t h = (static_cast<uint64_t>(t.epoch) << 32) ^ (static_cast<uint64_t>(t.node) << 16) ^ t.thread;
    return static_cast<size_t>(h * 0x9e3779b97f4a7c15ull ^ t.seq * 0xc2b2ae3d27d4eb4full);
  }
};

}  // namespace remora
