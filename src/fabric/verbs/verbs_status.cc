// libibverbs error translation: errno values from verbs calls and work
// completion statuses.
#include <fmt/format.h>

#include <cstring>

#include "fabric/verbs/verbs_fabric.h"

namespace remora {

Status verbs_errno(int err, std::string_view what) {
  if (err == 0) return Status::OK();
  const std::string msg = fmt::format("{}: {} (errno {})", what, std::strerror(err), err);
  switch (err) {
    case ENOMEM: return Status::OutOfMemory(msg);
    case EINVAL: return Status::InvalidArgument(msg);
    case ENODEV:
    case ENOENT: return Status::NotFound(msg);
    case EAGAIN:
    case EBUSY: return Status::Unavailable(msg);
    default: return Status::Transport(msg);
  }
}

Code verbs_wc_code(ibv_wc_status s) { return s == IBV_WC_SUCCESS ? Code::kOk : Code::kTransport; }

std::string verbs_wc_text(const ibv_wc& wc) {
  return fmt::format("{} (status {}, vendor error {:#x}, qp {:#x})", ibv_wc_status_str(wc.status),
                     static_cast<int>(wc.status), wc.vendor_err, wc.qp_num);
}

}  // namespace remora
