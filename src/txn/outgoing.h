// Outgoing messages of the commit protocol, grouped per node and split so
// that every message fits one ring record (RpcEndpoint::max_request) and the
// 16-bit counts of its header (MsgWriter::kMaxCount).
#pragma once

#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/types.h"
#include "txn/wire.h"

namespace remora::txn_detail {

// One message of the protocol to one node.
struct Outgoing {
  NodeId to;
  Method method;
  MsgWriter msg;
  Status status;
  bool sent = false;  // handed to the peer (or served here): it may have acted on it
};

// The last message to `n` in `v` if an item of `need` wire bytes (an entry,
// or a truncation if `trunc`) still fits it and `limit`; else a new message
// (TxId `tx`, `epoch`). `fresh` tells whether a new one was started.
MsgWriter& message_to(std::vector<Outgoing>& v, NodeId n, Method m, const TxId& tx, uint32_t epoch,
                      size_t need, size_t limit, bool trunc = false, bool* fresh = nullptr);

// True if some message of `v` goes to `n`.
bool has_message_to(const std::vector<Outgoing>& v, NodeId n);

}  // namespace remora::txn_detail
