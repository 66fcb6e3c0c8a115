// Bounded little-endian encoder/decoder for control-plane blobs (bootstrap
// messages, fabric peer info). Decoding never reads past the end: every get
// reports failure instead, and the caller turns that into kInvalidArgument.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace remora {

class Encoder {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_integral_v<T>);
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    buf_.insert(buf_.end(), p, p + sizeof(T));
  }
  void put_bytes(std::span<const uint8_t> b) {
    put<uint32_t>(static_cast<uint32_t>(b.size()));
    buf_.insert(buf_.end(), b.begin(), b.end());
  }
  void put_string(std::string_view s) {
    put_bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  std::vector<uint8_t>& bytes() { return buf_; }

 private:
  std::vector<uint8_t> buf_;
};

class Decoder {
 public:
  explicit Decoder(std::span<const uint8_t> in) : in_(in) {}

  template <typename T>
  bool get(T* v) {
    static_assert(std::is_integral_v<T>);
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  // A length-prefixed byte string of at most `max` bytes.
  bool get_bytes(std::vector<uint8_t>* out, uint32_t max) {
    uint32_t n = 0;
    if (!get(&n) || n > max || in_.size() - pos_ < n) return false;
    out->assign(in_.begin() + pos_, in_.begin() + pos_ + n);
    pos_ += n;
    return true;
  }
  bool get_string(std::string* out, uint32_t max) {
    std::vector<uint8_t> b;
    if (!get_bytes(&b, max)) return false;
    out->assign(b.begin(), b.end());
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

}  // namespace remora
