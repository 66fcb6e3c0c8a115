#include "txn/outgoing.h"

#include <algorithm>

namespace remora::txn_detail {

Outgoing& OutList::add(NodeId n, Method m, const TxId& tx, uint32_t epoch) {
  if (used_ == v_.size()) v_.push_back(Outgoing{n, m, MsgWriter(tx, epoch), {}});
  Outgoing& o = v_[used_++];
  o.to = n;
  o.method = m;
  o.msg.reset(tx, epoch);
  o.status = Status::OK();
  o.sent = false;
  return o;
}

MsgWriter& message_to(OutList& v, NodeId n, Method m, const TxId& tx, uint32_t epoch, size_t need,
                      size_t limit, bool trunc, bool* fresh) {
  for (size_t i = v.size(); i-- > 0;) {
    if (v[i].to != n) continue;
    const MsgWriter& w = v[i].msg;
    const bool fits = trunc ? w.entries() == 0 && w.truncs() < MsgWriter::kMaxCount && w.size() + need <= limit
                            : w.has_room(need, limit);
    if (fits) {
      if (fresh) *fresh = false;
      return v[i].msg;
    }
    break;
  }
  if (fresh) *fresh = true;
  return v.add(n, m, tx, epoch).msg;
}

bool has_message_to(const OutList& v, NodeId n) {
  return std::any_of(v.begin(), v.end(), [n](const Outgoing& o) { return o.to == n; });
}

}  // namespace remora::txn_detail
