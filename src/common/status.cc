#include "remora/common/status.h"

namespace remora {

std::string_view code_name(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kOutOfRange: return "OutOfRange";
    case Code::kNotFound: return "NotFound";
    case Code::kIoError: return "IoError";
    case Code::kTimeout: return "Timeout";
    case Code::kPeerGone: return "PeerGone";
    case Code::kFull: return "Full";
    case Code::kCorrupt: return "Corrupt";
    case Code::kRefused: return "Refused";
    case Code::kTransport: return "Transport";
    case Code::kInternal: return "Internal";
    case Code::kUnavailable: return "Unavailable";
    case Code::kConflict: return "Conflict";
    case Code::kOutOfMemory: return "OutOfMemory";
    case Code::kAborted: return "Aborted";
    case Code::kAlreadyExists: return "AlreadyExists";
  }
  return "Unknown";
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return msg_ ? *msg_ : kEmpty;
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  std::string s(code_name(code_));
  s += ": ";
  s += message();
  return s;
}

Status Status::with_context(std::string_view what) const {
  if (ok()) return *this;
  std::string m(what);
  m += ": ";
  m += message();
  return Status(code_, std::move(m));
}

}  // namespace remora
