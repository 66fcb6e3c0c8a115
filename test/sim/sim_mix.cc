// The allocation mix: random reads, writes, allocations and frees of
// objects of random sizes (some above half a block, so whole-block runs are
// freed and reused as slabs), reached through per-node root tables. Every
// object carries its own address, its size, a generation and a checksum,
// so a reused slot with a stale or garbage header is detected wherever it
// is read: by committed transactions, and at the end straight from memory.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "remora/runtime/context.h"
#include "remora/txn/object.h"
#include "remora/txn/tx.h"
#include "sim/sim_workload.h"

namespace remora::sim {
namespace {

struct Root {
  uint64_t addr;  // raw GAddr of the object, 0 if none
  uint32_t size;
  uint32_t gen;
};

// Object payload: addr (8), size (4), gen (4), checksum (8), pattern.
constexpr uint32_t kObjHeader = 24;

uint64_t checksum(std::span<const std::byte> body, uint64_t seed) {
  uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
  for (std::byte b : body) h = (h ^ static_cast<uint8_t>(b)) * 0x100000001b3ull;
  return h;
}

void fill(std::byte* p, uint64_t addr, uint32_t size, uint32_t gen) {
  std::memcpy(p, &addr, 8);
  std::memcpy(p + 8, &size, 4);
  std::memcpy(p + 12, &gen, 4);
  for (uint32_t i = kObjHeader; i < size; ++i) p[i] = static_cast<std::byte>((addr + gen * 7 + i) & 0xff);
  const uint64_t sum = checksum({p + kObjHeader, size - kObjHeader}, addr ^ gen);
  std::memcpy(p + 16, &sum, 8);
}

// Empty if the object matches what its root says.
std::string verify(std::span<const std::byte> p, const Root& r) {
  uint64_t addr, sum;
  uint32_t size, gen;
  std::memcpy(&addr, p.data(), 8);
  std::memcpy(&size, p.data() + 8, 4);
  std::memcpy(&gen, p.data() + 12, 4);
  std::memcpy(&sum, p.data() + 16, 8);
  if (addr != r.addr || size != r.size || gen != r.gen)
    return fmt::format("object {} claims address {:#x}, size {}, gen {}; its root says size {}, gen {}",
                       GAddr::from_raw(r.addr).to_string(), addr, size, gen, r.size, r.gen);
  if (sum != checksum(p.subspan(kObjHeader), addr ^ gen))
    return fmt::format("object {} (size {}, gen {}) fails its checksum", GAddr::from_raw(r.addr).to_string(),
                       size, gen);
  return {};
}

class Mix final : public SimWorkload {
 public:
  Status load(SimCluster& c, SimRng& rng) override {
    const uint32_t rows = static_cast<uint32_t>(rng.range(4, 12));
    block_ = 64 << 10;
    for (NodeId n = 0; n < c.size(); ++n) {
      auto t = c.store(n).create_table("roots", rows, sizeof(Root));
      if (!t.ok()) return t.status();
      for (uint32_t i = 0; i < rows; ++i) roots_.push_back(t->row(i));
    }
    return Status::OK();
  }

  void start(SimCluster& c, SimRng& rng) override {
    spawn_clients(c, rng, 3, [this, &c](NodeId n, uint64_t, Context& ctx, SimRng& r, uint64_t ops) {
      return client(c.txn(n), ctx, r, ops);
    });
  }

  Status check(SimCluster& c) override {
    if (!error_.empty()) return Status::Corrupt(error_);
    std::vector<std::pair<uint64_t, uint64_t>> spans;  // [begin, end) of live objects
    for (GAddr ra : roots_) {
      Root r;
      const std::byte* rp = c.store(primary(c, ra)).local_object(ra, obj::footprint(sizeof(Root)));
      std::memcpy(&r, rp + obj::kHeaderSize, sizeof(r));
      if (r.addr == 0) continue;
      const GAddr a = GAddr::from_raw(r.addr);
      const std::byte* op = c.store(primary(c, a)).local_object(a, obj::footprint(r.size));
      if (!op) return Status::Corrupt(fmt::format("root {} points outside the regions: {}", ra.to_string(), a.to_string()));
      const obj::Header h = obj::header_of(op);
      if (!obj::allocated(h.word) || obj::locked(h.word) || h.size != r.size)
        return Status::Corrupt(fmt::format("object {} of root {}: header word {:#x} size {}, root says size {}",
                                           a.to_string(), ra.to_string(), h.word, h.size, r.size));
      std::string bad = verify({op + obj::kHeaderSize, r.size}, r);
      if (!bad.empty()) return Status::Corrupt(bad + " (final state)");
      spans.emplace_back(r.addr, r.addr + obj::footprint(r.size));
    }
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i)
      if (spans[i].first < spans[i - 1].second)
        return Status::Corrupt(fmt::format("live objects {:#x} and {:#x} overlap", spans[i - 1].first, spans[i].first));
    return Status::OK();
  }

  std::vector<GAddr> fixed_objects() const override { return roots_; }

 private:
  static NodeId primary(SimCluster& c, GAddr a) { return c.store(0).map().primary(a.region()); }

  uint32_t pick_size(SimRng& rng) const {
    const uint64_t k = rng.below(100);
    if (k < 55) return static_cast<uint32_t>(rng.range(kObjHeader, 512));
    if (k < 85) return static_cast<uint32_t>(rng.range(512, 8192));
    return static_cast<uint32_t>(rng.range(block_ / 2, block_ + block_ / 2));  // whole-block runs
  }

  Status client(TxnEngine& txn, Context& ctx, SimRng& rng, uint64_t ops) {
    for (uint64_t i = 0; i < ops; ++i) {
      const GAddr ra = roots_[rng.below(roots_.size())];
      const uint64_t what = rng.below(4);  // read, write, alloc, free
      const uint32_t new_size = pick_size(rng);
      Root seen{};
      std::vector<std::byte> old;  // the object as the attempt read it
      Status st = txn.transact(ctx, [&](Tx& tx) -> Status {
        old.clear();
        auto root = tx.read<Root>(ra);
        if (!root.ok()) return root.status();
        seen = **root;
        if (seen.addr == 0) {
          if (what == 0) return Status::OK();  // nothing to read
          auto e = tx.alloc_entry(new_size);
          if (!e.ok()) return e.status();
          const GAddr a = tx.entry_addr(*e);
          fill(tx.write_entry(*e), a.raw(), new_size, 1);
          *tx.write(*root) = Root{a.raw(), new_size, 1};
          return Status::OK();
        }
        auto e = tx.read_entry(GAddr::from_raw(seen.addr), seen.size);
        if (!e.ok()) return e.status();
        old.assign(tx.payload(*e), tx.payload(*e) + seen.size);
        if (what == 0 || what == 2) return Status::OK();
        if (what == 3) {
          REMORA_RETURN_IF_ERROR(tx.free_entry(*e));
          *tx.write(*root) = Root{0, 0, 0};
          return Status::OK();
        }
        const uint32_t gen = seen.gen + 1;
        fill(tx.write_entry(*e), seen.addr, seen.size, gen);
        tx.write(*root)->gen = gen;
        return Status::OK();
      });
      count(st, {Code::kOutOfMemory});
      // A committed attempt read consistently: its copy must be intact.
      if (st.ok() && !old.empty() && error_.empty()) {
        std::string bad = verify(old, seen);
        if (!bad.empty()) error_ = bad + " (read by a committed transaction)";
      }
    }
    return Status::OK();
  }

  std::vector<GAddr> roots_;
  uint32_t block_ = 0;
  std::string error_;
};

}  // namespace

std::unique_ptr<SimWorkload> make_mix() { return std::make_unique<Mix>(); }

}  // namespace remora::sim
