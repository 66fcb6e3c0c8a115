#include "remora/txn/txid.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace remora {
namespace {

// One decimal field of a TxId: digits only, no sign, fits in `max`.
template <typename T>
Status parse_field(std::string_view text, std::string_view name, T* out) {
  if (text.empty()) return Status::InvalidArgument(fmt::format("tx id: empty {}", name));
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && v > std::numeric_limits<T>::max())) {
    return Status::InvalidArgument(fmt::format("tx id: {} '{}' out of range", name, text));
  }
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::InvalidArgument(fmt::format("tx id: {} '{}' is not a decimal number", name, text));
  }
  *out = static_cast<T>(v);
  return Status::OK();
}

}  // namespace

std::string TxId::to_string() const { return fmt::format("{}.{}.{}.{}", epoch, node, thread, seq); }

Result<TxId> TxId::parse(std::string_view text) {
  std::string_view parts[4];
  size_t n = 0;
  size_t pos = 0;
  while (true) {
    size_t dot = text.find('.', pos);
    if (n == 4) return Status::InvalidArgument(fmt::format("tx id '{}': more than 4 fields", text));
    parts[n++] = text.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  if (n != 4) {
    return Status::InvalidArgument(fmt::format("tx id '{}': want <epoch>.<node>.<thread>.<seq>", text));
  }
  TxId id;
  REMORA_RETURN_IF_ERROR(parse_field(parts[0], "epoch", &id.epoch));
  REMORA_RETURN_IF_ERROR(parse_field(parts[1], "node", &id.node));
  REMORA_RETURN_IF_ERROR(parse_field(parts[2], "thread", &id.thread));
  REMORA_RETURN_IF_ERROR(parse_field(parts[3], "seq", &id.seq));
  return id;
}

}  // namespace remora
