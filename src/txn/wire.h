// Wire formats of the commit protocol's messages (docs/transactions.md).
//
// Every message is an RPC request body:
//   MsgHeader | truncs x TxId | entries x (EntryHeader | payload padded to 8)
// LOCK and COMMIT_BACKUP carry payloads; VALIDATE carries entries with size
// 0 (addr + expected word); RELEASE entries with size 0 (addr + the freed
// object's last word in new_word); COMMIT_PRIMARY, ABORT and TRUNCATE carry
// none.
// A payload too large for one ring record travels ahead in kStage messages
// (entry: addr, expected = offset, new_word = total size, a piece of the
// payload), and the LOCK or COMMIT_BACKUP entry is flagged kStaged. A
// transaction's records to one node may span several messages.
// Replies are the RPC status (OK, or kConflict naming the object) and an
// empty body.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "remora/common/status.h"
#include "remora/txn/txid.h"

namespace remora::txn_detail {

// RPC methods; 16..31 are reserved for the transaction layer.
enum Method : uint16_t {
  kLock = 16,
  kValidate = 18,
  kCommitBackup = 19,
  kCommitPrimary = 20,
  kAbort = 21,
  kTruncate = 22,
  kCatalog = 23,
  kStage = 24,
  kRelease = 25,  // one-way: the runs of committed frees may be reused
};

// EntryHeader::flags
constexpr uint32_t kStaged = 1;  // payload sent before in kStage messages

struct MsgHeader {
  TxId tx;
  uint32_t epoch;
  uint16_t entries;
  uint16_t truncs;
};
static_assert(sizeof(MsgHeader) == 24);

struct EntryHeader {
  uint64_t addr;      // raw GAddr of the object header
  uint64_t expected;  // LOCK / VALIDATE: the word read (unlocked)
  uint64_t new_word;  // LOCK / COMMIT_BACKUP: the word installed at commit
  uint32_t size;      // payload bytes (that follow unless kStaged)
  uint32_t flags;     // kStaged or 0
};
static_assert(sizeof(EntryHeader) == 32);

constexpr uint32_t padded(uint32_t n) { return (n + 7u) & ~7u; }

// Builds a message: header first, then add truncations, then entries. The
// header counts both in 16 bits: an add beyond kMaxCount is refused
// (kOutOfRange, nothing added) rather than wrapped; callers start another
// message when has_room() says no.
class MsgWriter {
 public:
  static constexpr uint32_t kMaxCount = 0xffff;

  MsgWriter(const TxId& tx, uint32_t epoch);
  // Starts a new message in the same buffer (its capacity is kept).
  void reset(const TxId& tx, uint32_t epoch);
  // REQUIRES: before any entry (kInvalidArgument otherwise).
  [[nodiscard]] Status add_trunc(const TxId& t);
  [[nodiscard]] Status add_entry(const EntryHeader& e, std::span<const std::byte> payload);
  // An entry whose payload (e.size bytes) was staged.
  [[nodiscard]] Status add_staged_entry(const EntryHeader& e);
  std::span<const std::byte> bytes() const { return buf_; }
  uint16_t entries() const;
  uint16_t truncs() const;
  size_t size() const { return buf_.size(); }
  // One more entry of `bytes` wire bytes fits the count and `limit` bytes.
  bool has_room(size_t bytes, size_t limit) const {
    return entries() < kMaxCount && size() + bytes <= limit;
  }

 private:
  MsgHeader header() const;
  Status bump(bool entry);
  std::vector<std::byte> buf_;
};

struct EntryView {
  EntryHeader h;
  std::span<const std::byte> payload;
};

// The truncations of a checked message, read from its bytes on access.
class TruncList {
 public:
  TruncList() = default;
  TruncList(const std::byte* at, size_t n) : at_(at), n_(n) {}
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  TxId operator[](size_t i) const;

 private:
  const std::byte* at_ = nullptr;
  size_t n_ = 0;
};

// The entries of a checked message, parsed as they are walked (forward;
// operator[] walks from the first, for tests and short messages).
class EntryList {
 public:
  class Iterator {
   public:
    Iterator(const std::byte* at, size_t left) : at_(at), left_(left) {}
    EntryView operator*() const;
    Iterator& operator++();
    bool operator!=(const Iterator& o) const { return left_ != o.left_; }

   private:
    const std::byte* at_;
    size_t left_;
  };
  EntryList() = default;
  EntryList(const std::byte* at, size_t n) : at_(at), n_(n) {}
  size_t size() const { return n_; }
  Iterator begin() const { return {at_, n_}; }
  Iterator end() const { return {nullptr, 0}; }
  EntryView operator[](size_t i) const;

 private:
  const std::byte* at_ = nullptr;
  size_t n_ = 0;
};

// A parsed message: its header, and views into the request bytes (which
// must outlive it). Parsing checks the whole message and allocates nothing.
struct MsgView {
  MsgHeader header;
  TruncList truncs;
  EntryList entries;
};

// kCorrupt names what does not add up.
Result<MsgView> parse_msg(std::span<const std::byte> bytes);

}  // namespace remora::txn_detail
