// Outgoing messages of the commit protocol, grouped per node and split so
// that every message fits one ring record (RpcEndpoint::max_request) and the
// 16-bit counts of its header (MsgWriter::kMaxCount).
#pragma once

#include <span>
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

// A list of messages that keeps its messages' buffers when cleared, so a
// list reused by every commit of a coroutine allocates nothing once it has
// held as many messages of each size as the largest commit so far.
class OutList {
 public:
  // A new message at the end (empty, unsent, status OK).
  Outgoing& add(NodeId n, Method m, const TxId& tx, uint32_t epoch);
  void clear() { used_ = 0; }
  size_t size() const { return used_; }
  bool empty() const { return used_ == 0; }
  Outgoing& back() { return v_[used_ - 1]; }
  Outgoing* begin() { return v_.data(); }
  Outgoing* end() { return v_.data() + used_; }
  const Outgoing* begin() const { return v_.data(); }
  const Outgoing* end() const { return v_.data() + used_; }
  Outgoing& operator[](size_t i) { return v_[i]; }

 private:
  std::vector<Outgoing> v_;
  size_t used_ = 0;
};

// The last message to `n` in `v` if an item of `need` wire bytes (an entry,
// or a truncation if `trunc`) still fits it and `limit`; else a new message
// (TxId `tx`, `epoch`). `fresh` tells whether a new one was started.
MsgWriter& message_to(OutList& v, NodeId n, Method m, const TxId& tx, uint32_t epoch, size_t need,
                      size_t limit, bool trunc = false, bool* fresh = nullptr);

// True if some message of `v` goes to `n`.
bool has_message_to(const OutList& v, NodeId n);

}  // namespace remora::txn_detail
