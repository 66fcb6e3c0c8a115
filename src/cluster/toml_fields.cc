#include "cluster/toml_fields.h"

#include <algorithm>
#include <string>
#include <vector>

#include "remora/cluster/config.h"

namespace remora::config_detail {
namespace {

// Edit distance, for "did you mean" hints on misspelt keys.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      size_t subst = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, subst});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(std::string_view key, const toml::node& node,
                                std::initializer_list<std::string_view> allowed) {
  std::string_view best;
  size_t best_distance = 3;  // suggest only keys at most 2 edits away
  std::string list;
  for (std::string_view a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
    size_t d = edit_distance(key, a);
    if (d < best_distance) {
      best_distance = d;
      best = a;
    }
  }
  bool is_table = node.is_table() || node.is_array_of_tables();
  std::string msg = is_table ? "unknown table" : "unknown key";
  if (!best.empty()) msg += " (did you mean '" + std::string(best) + "'?)";
  if (allowed.size() == 0) return msg + "; this table takes no keys";
  return msg + "; expected one of: " + list;
}

}  // namespace

Status located_error(std::string_view source, const toml::source_region& where,
                     std::string_view key, std::string_view msg) {
  std::string text(source);
  if (where.begin.line > 0) text += ":" + std::to_string(where.begin.line);
  text += ": ";
  text += key;
  text += ": ";
  text += msg;
  return Status::InvalidArgument(std::move(text));
}

std::string_view toml_type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string TomlFields::key_path(std::string_view key) const {
  if (prefix_.empty()) return std::string(key);
  return prefix_ + "." + std::string(key);
}

Status TomlFields::check_keys(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, node] : table_) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    return located_error(source_, node.source(), key_path(key.str()),
                         unknown_key_message(key.str(), node, allowed));
  }
  return Status::OK();
}

Status TomlFields::missing(std::string_view key) const {
  return located_error(source_, table_.source(), key_path(key), "missing required key");
}

Status TomlFields::error(std::string_view key, std::string_view msg) const {
  const toml::node* node = table_.get(key);
  return located_error(source_, node ? node->source() : table_.source(), key_path(key), msg);
}

static Status wrong_type(const TomlFields& f, std::string_view key, const toml::node& node,
                         std::string_view expected) {
  return f.error(key, "expected " + std::string(expected) + ", got " +
                          std::string(toml_type_name(node.type())));
}

Status TomlFields::get_string(std::string_view key, std::optional<std::string>* out) const {
  const toml::node* node = table_.get(key);
  if (node == nullptr) return Status::OK();
  const auto* s = node->as_string();
  if (s == nullptr) return wrong_type(*this, key, *node, "string");
  *out = s->get();
  return Status::OK();
}

Status TomlFields::get_int(std::string_view key, int64_t lo, int64_t hi,
                           std::optional<int64_t>* out) const {
  const toml::node* node = table_.get(key);
  if (node == nullptr) return Status::OK();
  const auto* i = node->as_integer();
  if (i == nullptr) return wrong_type(*this, key, *node, "integer");
  int64_t v = i->get();
  if (v < lo || v > hi) {
    return error(key, std::to_string(v) + " out of range [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  }
  *out = v;
  return Status::OK();
}

Status TomlFields::get_size(std::string_view key, uint64_t lo, uint64_t hi,
                            std::optional<uint64_t>* out) const {
  const toml::node* node = table_.get(key);
  if (node == nullptr) return Status::OK();
  uint64_t bytes = 0;
  if (const auto* i = node->as_integer()) {
    if (i->get() < 0) return error(key, "size " + std::to_string(i->get()) + " is negative");
    bytes = static_cast<uint64_t>(i->get());
  } else if (const auto* s = node->as_string()) {
    Result<uint64_t> parsed = parse_size(s->get());
    if (!parsed.ok()) return error(key, parsed.status().message());
    bytes = *parsed;
  } else {
    return wrong_type(*this, key, *node, "size (string like \"64MiB\" or integer bytes)");
  }
  if (bytes < lo || bytes > hi) {
    return error(key, format_size(bytes) + " out of range [" + format_size(lo) + ", " +
                          format_size(hi) + "]");
  }
  *out = bytes;
  return Status::OK();
}

}  // namespace remora::config_detail
