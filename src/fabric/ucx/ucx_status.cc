#include <fmt/format.h>

#include "fabric/ucx/ucx_fabric.h"

namespace remora {

Code ucx_code(ucs_status_t s) {
  switch (s) {
    case UCS_OK: return Code::kOk;
    case UCS_ERR_NO_MEMORY:
    case UCS_ERR_NO_RESOURCE: return Code::kFull;
    case UCS_ERR_INVALID_PARAM:
    case UCS_ERR_INVALID_ADDR: return Code::kInvalidArgument;
    case UCS_ERR_OUT_OF_RANGE: return Code::kOutOfRange;
    case UCS_ERR_TIMED_OUT: return Code::kTimeout;
    case UCS_ERR_ENDPOINT_TIMEOUT:  // the endpoint failed: UCX gave up on the peer
    case UCS_ERR_CANCELED:
    case UCS_ERR_UNREACHABLE:
    case UCS_ERR_CONNECTION_RESET:
    case UCS_ERR_NOT_CONNECTED:
    case UCS_ERR_REJECTED: return Code::kPeerGone;
    case UCS_ERR_UNSUPPORTED: return Code::kUnavailable;
    default: return Code::kTransport;
  }
}

Status ucx_status(ucs_status_t s, std::string_view what) {
  if (s == UCS_OK) return Status::OK();
  return Status(ucx_code(s), fmt::format("{}: {}", what, ucs_status_string(s)));
}

}  // namespace remora
