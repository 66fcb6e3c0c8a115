// Byte sizes with binary units: "64MiB", "4 KiB", "4096", "4096B".
#include <array>
#include <cctype>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "remora/cluster/config.h"

namespace remora {
namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};
// Largest first, so format_size picks the biggest unit that divides evenly.
constexpr std::array<Unit, 4> kUnits{{
    {"GiB", 1ull << 30},
    {"MiB", 1ull << 20},
    {"KiB", 1ull << 10},
    {"B", 1},
}};

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Status bad_size(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("invalid size \"" + std::string(text) + "\": " + std::string(why));
}

// Unit factor for a suffix (case-insensitive); 0 if unknown.
uint64_t unit_factor(std::string_view suffix) {
  if (suffix.empty()) return 1;
  for (const Unit& u : kUnits) {
    if (iequals(suffix, u.name)) return u.factor;
  }
  return 0;
}

}  // namespace

Result<uint64_t> parse_size(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return bad_size(text, "empty");
  if (!is_digit(s.front())) return bad_size(text, "expected a number, e.g. \"64MiB\"");
  uint64_t number = 0;
  size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (number > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return bad_size(text, "too large");
    }
    number = number * 10 + digit;
  }
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    return bad_size(text, "fractions are not supported; use a smaller unit");
  }
  std::string_view suffix = trim(s.substr(i));
  uint64_t factor = unit_factor(suffix);
  if (factor == 0) {
    return bad_size(text, "unknown unit \"" + std::string(suffix) +
                              "\" (use B, KiB, MiB or GiB; units are powers of 1024)");
  }
  if (number > std::numeric_limits<uint64_t>::max() / factor) return bad_size(text, "too large");
  return number * factor;
}

std::string format_size(uint64_t bytes) {
  for (const Unit& u : kUnits) {
    if (bytes != 0 && bytes % u.factor == 0)
      return std::to_string(bytes / u.factor) + std::string(u.name);
  }
  return std::to_string(bytes) + "B";
}

}  // namespace remora
