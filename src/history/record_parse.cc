// The reading half of the history line format: a small strict parser for the
// one object shape the writers produce (faster than a general JSON parser on
// million-line histories, and its errors point at the column).
#include <charconv>

#include <fmt/format.h>

#include "remora/history/history.h"

namespace remora {
namespace {

class LineParser {
 public:
  explicit LineParser(std::string_view s) : s_(s) {}

  // A transaction line into out->records, a load line into out->loads.
  Status parse(History* out) {
    REMORA_RETURN_IF_ERROR(expect('{'));
    std::string_view key;
    REMORA_RETURN_IF_ERROR(string(&key));
    REMORA_RETURN_IF_ERROR(expect(':'));
    if (key == "load") {
      HistoryLoad l;
      REMORA_RETURN_IF_ERROR(load(&l));
      REMORA_RETURN_IF_ERROR(expect('}'));
      REMORA_RETURN_IF_ERROR(end_of_line());
      out->loads.push_back(l);
      return Status::OK();
    }
    HistoryRecord r;
    unsigned seen = 0;
    REMORA_RETURN_IF_ERROR(field(key, &r, &seen));
    while (accept(',')) {
      REMORA_RETURN_IF_ERROR(string(&key));
      REMORA_RETURN_IF_ERROR(expect(':'));
      REMORA_RETURN_IF_ERROR(field(key, &r, &seen));
    }
    REMORA_RETURN_IF_ERROR(expect('}'));
    REMORA_RETURN_IF_ERROR(end_of_line());
    if ((seen & kRequired) != kRequired) return error(fmt::format("missing key '{}'", kKeys[missing_key(seen)]));
    if (r.lockfree && (r.outcome != TxOutcome::kCommit || !r.writes.empty()))
      return error("a lockfree read must have outcome \"commit\" and no writes");
    out->records.push_back(std::move(r));
    return Status::OK();
  }

 private:
  // "kind" is optional (absent: a transaction attempt).
  static constexpr std::string_view kKeys[] = {"tx", "start", "end", "outcome", "reads", "writes", "kind"};
  static constexpr unsigned kRequired = 0x3f;
  static constexpr std::string_view kLoadKeys[] = {"from", "count", "stride", "version"};

  static size_t missing_key(unsigned seen) {
    size_t i = 0;
    while (seen & (1u << i)) ++i;
    return i;
  }

  Status end_of_line() {
    skip_ws();
    if (pos_ != s_.size()) return error("trailing characters after the object");
    return Status::OK();
  }

  Status field(std::string_view key, HistoryRecord* r, unsigned* seen) {
    if (key == "load") return error("'load' must be the only key of its line");
    size_t i = 0;
    while (i < std::size(kKeys) && kKeys[i] != key) ++i;
    if (i == std::size(kKeys)) return error(fmt::format("unknown key '{}'", key));
    if (*seen & (1u << i)) return error(fmt::format("duplicate key '{}'", key));
    *seen |= 1u << i;
    switch (i) {
      case 0: return tx_id(&r->tx);
      case 1: return number(&r->start_ns);
      case 2: return number(&r->end_ns);
      case 3: return outcome(&r->outcome);
      case 4: return pairs(&r->reads);
      case 5: return pairs(&r->writes);
      default: return kind(&r->lockfree);
    }
  }

  // {"from":"0x<hex>","count":N,"stride":S,"version":V}, every key required.
  Status load(HistoryLoad* l) {
    REMORA_RETURN_IF_ERROR(expect('{'));
    unsigned seen = 0;
    do {
      std::string_view key;
      REMORA_RETURN_IF_ERROR(string(&key));
      REMORA_RETURN_IF_ERROR(expect(':'));
      size_t i = 0;
      while (i < std::size(kLoadKeys) && kLoadKeys[i] != key) ++i;
      if (i == std::size(kLoadKeys)) return error(fmt::format("unknown load key '{}'", key));
      if (seen & (1u << i)) return error(fmt::format("duplicate load key '{}'", key));
      seen |= 1u << i;
      const size_t at = pos_;
      switch (i) {
        case 0: REMORA_RETURN_IF_ERROR(address(&l->from)); break;
        case 1: REMORA_RETURN_IF_ERROR(number(&l->count)); break;
        case 2: REMORA_RETURN_IF_ERROR(number(&l->stride)); break;
        default: REMORA_RETURN_IF_ERROR(number(&l->version)); break;
      }
      if ((i == 1 || i == 2) && (i == 1 ? l->count : l->stride) == 0)
        return error_at(at, fmt::format("load {} must be at least 1", key));
    } while (accept(','));
    REMORA_RETURN_IF_ERROR(expect('}'));
    if (seen != 0xf) return error(fmt::format("missing load key '{}'", kLoadKeys[missing_key(seen)]));
    return Status::OK();
  }

  Status tx_id(TxId* out) {
    std::string_view text;
    REMORA_RETURN_IF_ERROR(string(&text));
    Result<TxId> id = TxId::parse(text);
    if (!id.ok()) return error(id.status().message());
    *out = *id;
    return Status::OK();
  }

  Status outcome(TxOutcome* out) {
    std::string_view text;
    REMORA_RETURN_IF_ERROR(string(&text));
    if (text == "commit") {
      *out = TxOutcome::kCommit;
    } else if (text == "abort") {
      *out = TxOutcome::kAbort;
    } else if (text == "unknown") {
      *out = TxOutcome::kUnknown;
    } else {
      return error(fmt::format("outcome '{}': want \"commit\", \"abort\" or \"unknown\"", text));
    }
    return Status::OK();
  }

  Status kind(bool* lockfree) {
    std::string_view text;
    REMORA_RETURN_IF_ERROR(string(&text));
    if (text != "tx" && text != "lockfree") return error(fmt::format("kind '{}': want \"tx\" or \"lockfree\"", text));
    *lockfree = text == "lockfree";
    return Status::OK();
  }

  // [["0x<hex>",<version>],...]
  Status pairs(std::vector<std::pair<uint64_t, uint64_t>>* out) {
    REMORA_RETURN_IF_ERROR(expect('['));
    if (accept(']')) return Status::OK();
    do {
      uint64_t addr = 0, version = 0;
      REMORA_RETURN_IF_ERROR(expect('['));
      REMORA_RETURN_IF_ERROR(address(&addr));
      REMORA_RETURN_IF_ERROR(expect(','));
      REMORA_RETURN_IF_ERROR(number(&version));
      REMORA_RETURN_IF_ERROR(expect(']'));
      out->emplace_back(addr, version);
    } while (accept(','));
    return expect(']');
  }

  Status address(uint64_t* out) {
    size_t at = pos_;
    std::string_view text;
    REMORA_RETURN_IF_ERROR(string(&text));
    if (text.size() < 3 || text.size() > 18 || text.substr(0, 2) != "0x") {
      return error_at(at, fmt::format("address '{}': want \"0x<hex>\"", text));
    }
    auto [ptr, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), *out, 16);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return error_at(at, fmt::format("address '{}' is not hexadecimal", text));
    }
    return Status::OK();
  }

  Status number(uint64_t* out) {
    skip_ws();
    auto [ptr, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), *out);
    if (ec == std::errc::result_out_of_range) return error("number out of 64-bit range");
    if (ec != std::errc()) return error("expected an unsigned integer");
    pos_ = static_cast<size_t>(ptr - s_.data());
    return Status::OK();
  }

  // A string without escapes: the format never needs them.
  Status string(std::string_view* out) {
    REMORA_RETURN_IF_ERROR(expect('"'));
    size_t end = s_.find_first_of("\"\\", pos_);
    if (end == std::string_view::npos) return error("unterminated string");
    if (s_[end] == '\\') return error_at(end, "escapes are not allowed in history strings");
    *out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return Status::OK();
  }

  Status expect(char c) {
    if (accept(c)) return Status::OK();
    if (pos_ >= s_.size()) return error(fmt::format("expected '{}', found end of line", c));
    return error(fmt::format("expected '{}', found '{}'", c, s_[pos_]));
  }

  bool accept(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }

  Status error(std::string what) const { return error_at(pos_, std::move(what)); }
  Status error_at(size_t at, std::string what) const {
    return Status::InvalidArgument(fmt::format("column {}: {}", at + 1, what));
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Status parse_history_line(std::string_view line, History* out) { return LineParser(line).parse(out); }

Result<HistoryRecord> parse_history_line(std::string_view line) {
  History h;
  REMORA_RETURN_IF_ERROR(LineParser(line).parse(&h));
  if (h.records.empty()) return Status::InvalidArgument("column 1: a load line, not a transaction");
  return std::move(h.records.front());
}

}  // namespace remora
