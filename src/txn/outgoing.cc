#include "txn/outgoing.h"

#include <algorithm>

namespace remora::txn_detail {

MsgWriter& message_to(std::vector<Outgoing>& v, NodeId n, Method m, const TxId& tx, uint32_t epoch,
                      size_t need, size_t limit, bool trunc, bool* fresh) {
  for (auto it = v.rbegin(); it != v.rend(); ++it) {
    if (it->to != n) continue;
    const MsgWriter& w = it->msg;
    const bool fits = trunc ? w.entries() == 0 && w.truncs() < MsgWriter::kMaxCount && w.size() + need <= limit
                            : w.has_room(need, limit);
    if (fits) {
      if (fresh) *fresh = false;
      return it->msg;
    }
    break;
  }
  v.push_back(Outgoing{n, m, MsgWriter(tx, epoch), {}});
  if (fresh) *fresh = true;
  return v.back().msg;
}

bool has_message_to(const std::vector<Outgoing>& v, NodeId n) {
  return std::any_of(v.begin(), v.end(), [n](const Outgoing& o) { return o.to == n; });
}

}  // namespace remora::txn_detail
