// Typed, located access to the fields of one TOML table.
//
// Every error names the source, the line and the dotted key:
//   "configs/x.toml:12: cluster.threads: 0 out of range [1, 64]".
// Lookups only read; unknown keys are found by check_keys().
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "remora/common/status.h"

namespace remora::config_detail {

// "source:line: key: msg"; the line is left out when the region has none.
Status located_error(std::string_view source, const toml::source_region& where,
                     std::string_view key, std::string_view msg);

// Name of a TOML type for messages ("integer", "string", "table", ...).
std::string_view toml_type_name(toml::node_type type);

class TomlFields {
 public:
  // `prefix` is the dotted path of `table` ("cluster", "node"; "" for root).
  TomlFields(const toml::table& table, std::string_view source, std::string prefix)
      : table_(table), source_(source), prefix_(std::move(prefix)) {}

  // Refuses any key outside `allowed`, suggesting the closest allowed key.
  Status check_keys(std::initializer_list<std::string_view> allowed) const;

  // Each getter leaves *out untouched when the key is absent, and fails with
  // a located error on a wrong type or a value outside [lo, hi].
  Status get_string(std::string_view key, std::optional<std::string>* out) const;
  Status get_int(std::string_view key, int64_t lo, int64_t hi, std::optional<int64_t>* out) const;
  // A size is a string with a unit ("64MiB") or an integer byte count.
  Status get_size(std::string_view key, uint64_t lo, uint64_t hi,
                  std::optional<uint64_t>* out) const;

  // Sets *out from an in-range integer field, converting to T.
  template <typename T>
  Status read_int(std::string_view key, int64_t lo, int64_t hi, T* out) const {
    std::optional<int64_t> v;
    REMORA_RETURN_IF_ERROR(get_int(key, lo, hi, &v));
    if (v) *out = static_cast<T>(*v);
    return Status::OK();
  }

  // Error located at the table itself, e.g. for a missing key.
  Status missing(std::string_view key) const;
  // Error located at the value of `key` (or at the table if it is absent).
  Status error(std::string_view key, std::string_view msg) const;

  std::string key_path(std::string_view key) const;
  const toml::table& table() const { return table_; }
  std::string_view source() const { return source_; }

 private:
  const toml::table& table_;
  std::string_view source_;
  std::string prefix_;
};

}  // namespace remora::config_detail
