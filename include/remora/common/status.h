// Status and Result<T>: recoverable errors as values.
//
// A Status is a code plus a human message. OK carries no message and costs a
// byte and an empty string. Every backend translates its own error codes
// (errno, ucs_status_t, ibv_wc_status) into these codes in one place.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace remora {

enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument,  // malformed input: config, record, request
  kOutOfRange,       // address outside a registered region
  kNotFound,         // unknown region, node, key
  kIoError,          // a system call failed
  kTimeout,          // a deadline passed
  kPeerGone,         // the remote node died or left
  kFull,             // a ring or queue has no space now; retry later
  kCorrupt,          // a record failed validation
  kRefused,          // a peer refused us (wrong cluster id, bad hello)
  kTransport,        // the fabric reported an error
  kInternal,         // a broken invariant that the caller cannot fix
  kUnavailable,      // not ready yet (e.g. peer not connected)
  kConflict,         // a transaction lost a race (lock refused, validation failed); retry
  kOutOfMemory,      // no free object or block of the requested size
  kAborted,          // the application aborted a transaction on purpose
  kAlreadyExists,    // an insert found the key (or name) present
};

constexpr Code kLastCode = Code::kAlreadyExists;  // keep last: wire checks use it

std::string_view code_name(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string msg)
      : code_(code), msg_(code == Code::kOk ? nullptr : std::make_unique<std::string>(std::move(msg))) {}
  // An OK status holds no message and costs no allocation: the data path
  // returns one per operation.
  Status(const Status& o) : code_(o.code_), msg_(o.msg_ ? std::make_unique<std::string>(*o.msg_) : nullptr) {}
  Status& operator=(const Status& o) {
    if (this != &o) *this = Status(o);
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return {}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {Code::kOutOfRange, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  static Status PeerGone(std::string m) { return {Code::kPeerGone, std::move(m)}; }
  static Status Full(std::string m) { return {Code::kFull, std::move(m)}; }
  static Status Corrupt(std::string m) { return {Code::kCorrupt, std::move(m)}; }
  static Status Refused(std::string m) { return {Code::kRefused, std::move(m)}; }
  static Status Transport(std::string m) { return {Code::kTransport, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status OutOfMemory(std::string m) { return {Code::kOutOfMemory, std::move(m)}; }
  static Status Aborted(std::string m) { return {Code::kAborted, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const;
  // "OutOfRange: offset 0x10 + 64 beyond region 3 of size 16"
  std::string to_string() const;

  // Adds context in front of the message, keeping the code.
  Status with_context(std::string_view what) const;

 private:
  Code code_ = Code::kOk;
  std::unique_ptr<std::string> msg_;  // null when OK
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status::Internal("Result built from an OK status without value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace remora

// Returns from the enclosing function if the expression yields a non-OK Status.
#define REMORA_RETURN_IF_ERROR(expr)           \
  do {                                          \
    ::remora::Status _remora_st = (expr);       \
    if (!_remora_st.ok()) return _remora_st;    \
  } while (0)
