#include "remora/txn/store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "remora/node/node.h"
#include "remora/txn/object.h"
#include "txn/block_allocator.h"

namespace remora {

Result<std::unique_ptr<Store>> Store::create(const Config& cfg, NodeId self, Fabric& fabric,
                                             std::vector<LocalRegion*> data, StoreOptions options) {
  std::unique_ptr<Store> s(new Store(cfg, self, fabric, std::move(data), options));
  REMORA_RETURN_IF_ERROR(s->init());
  return s;
}

Result<std::unique_ptr<Store>> Store::create(Node& node, StoreOptions options) {
  std::vector<LocalRegion*> data;
  for (uint32_t i = 0; i < node.config().regions_per_node; ++i) data.push_back(&node.data_region(i));
  return create(node.config(), node.id(), node.fabric(), std::move(data), options);
}

Store::Store(const Config& cfg, NodeId self, Fabric& fabric, std::vector<LocalRegion*> data,
             StoreOptions options)
    : self_(self),
      fabric_(fabric),
      region_size_(cfg.region_size),
      options_(options),
      map_(cfg),
      data_(std::move(data)) {}

Store::~Store() = default;

Status Store::init() {
  const uint32_t bs = options_.block_size;
  const uint64_t region = region_size_;
  if (bs < 4096 || bs > (64u << 20) || (bs & (bs - 1)) != 0 || region % bs != 0)
    return Status::InvalidArgument(fmt::format(
        "block_size {} must be a power of two in [4KiB, 64MiB] dividing region_size {}", bs, region));
  for (LocalRegion* r : data_)
    if (r->size != region) return Status::InvalidArgument(fmt::format("data region {} is not {} B", r->id, region));
  blocks_ = std::make_unique<txn_detail::BlockAllocator>(data_, bs);
  for (const RegionMap::Replica& rep : map_.replicas_on(self())) {
    const LocalRegion* r = fabric_.local_region(rep.local_region);
    if (!r) return Status::Internal(fmt::format("replica region {} not registered", rep.local_region));
    replicas_[rep.primary_region] = const_cast<LocalRegion*>(r);
    const size_t blocks = region / bs;
    auto floors = std::make_unique<std::atomic<uint64_t>[]>(blocks);
    for (size_t b = 0; b < blocks; ++b) floors[b].store(0, std::memory_order_relaxed);
    replica_floors_[rep.primary_region] = std::move(floors);
  }
  return Status::OK();
}

uint64_t Store::replica_floor(GAddr a) const {
  auto it = replica_floors_.find(a.region());
  if (it == replica_floors_.end() || a.offset() >= region_size_) return 0;
  return it->second[a.offset() / options_.block_size].load(std::memory_order_acquire);
}

void Store::raise_replica_floor(GAddr a, uint64_t bytes, uint64_t version) {
  auto it = replica_floors_.find(a.region());
  if (it == replica_floors_.end() || bytes == 0) return;
  const uint64_t first = a.offset() / options_.block_size;
  const uint64_t last = std::min<uint64_t>((a.offset() + bytes - 1) / options_.block_size,
                                           region_size_ / options_.block_size - 1);
  for (uint64_t b = first; b <= last; ++b) {
    std::atomic<uint64_t>& f = it->second[b];
    uint64_t cur = f.load(std::memory_order_relaxed);
    while (cur < version && !f.compare_exchange_weak(cur, version, std::memory_order_acq_rel)) {
    }
  }
}

std::byte* Store::local_object(GAddr a, uint32_t len) const {
  for (LocalRegion* r : data_)
    if (r->id == a.region()) return r->contains(r->data + a.offset(), len) ? r->data + a.offset() : nullptr;
  return nullptr;
}

std::byte* Store::replica_object(GAddr a, uint32_t len) const {
  auto it = replicas_.find(a.region());
  if (it == replicas_.end()) return nullptr;
  LocalRegion* r = it->second;
  return r->contains(r->data + a.offset(), len) ? r->data + a.offset() : nullptr;
}

Result<Table> Store::create_table(const std::string& name, uint32_t rows, uint32_t size,
                                  const RowInit& init) {
  if (name.empty() || name.size() > 255) return Status::InvalidArgument("table name must be 1-255 bytes");
  if (rows == 0) return Status::InvalidArgument(fmt::format("table {}: zero rows", name));
  {
    std::lock_guard lock(catalog_mu_);
    if (catalog_.count(name)) return Status::InvalidArgument(fmt::format("table {} exists", name));
  }
  const uint32_t stride = obj::footprint(size);
  const uint64_t bytes = static_cast<uint64_t>(rows) * stride;
  const uint64_t count = (bytes + blocks_->block_size() - 1) / blocks_->block_size();
  if (bytes > region_size_)
    return Status::OutOfMemory(fmt::format("table {}: {} B do not fit a region", name, bytes));
  auto base = blocks_->take_run(static_cast<uint32_t>(count), /*table=*/true);
  if (!base.ok()) return base.status().with_context("table " + name);
  std::vector<std::byte> payload(size);
  for (uint32_t i = 0; i < rows; ++i) {
    std::fill(payload.begin(), payload.end(), std::byte{0});
    if (init) init(i, payload);
    obj::write_body(local_object(base->plus(i * stride), stride), obj::kAllocBit | kLoadVersion, payload);
  }
  Table t{name, *base, rows, size, stride};
  std::lock_guard lock(catalog_mu_);
  catalog_[name] = t;
  return t;
}

Result<Table> Store::table(const std::string& name) const {
  std::lock_guard lock(catalog_mu_);
  auto it = catalog_.find(name);
  if (it == catalog_.end())
    return Status::NotFound(fmt::format("node {} has no table \"{}\"", self(), name));
  return it->second;
}

std::vector<Table> Store::tables() const {
  std::lock_guard lock(catalog_mu_);
  std::vector<Table> out;
  for (const auto& [name, t] : catalog_) out.push_back(t);
  return out;
}

Status Store::push_replicas(Engine& e) {
  constexpr uint32_t kChunk = 256 << 10;
  std::vector<WorkRequest> batch;
  for (LocalRegion* r : data_) {
    const uint64_t used = blocks_->used_bytes(r->id);
    for (NodeId b : map_.backups(r->id)) {
      const RegionId dst = map_.replica_region(b, r->id);
      for (uint64_t off = 0; off < used; off += kChunk) {
        const auto len = static_cast<uint32_t>(std::min<uint64_t>(kChunk, used - off));
        batch.push_back({Op::kWrite, b, GAddr(dst, static_cast<uint32_t>(off)), r->data + off, len});
        if (batch.size() == 32) {
          REMORA_RETURN_IF_ERROR(e.execute(batch).with_context("pushing replicas"));
          batch.clear();
        }
      }
    }
  }
  if (batch.empty()) return Status::OK();
  return e.execute(batch).with_context("pushing replicas");
}

Status Store::compare_replicas(Engine& e) {
  const auto scratch = e.scratch();
  const uint32_t chunk = static_cast<uint32_t>(std::min<size_t>(scratch.size() / 2, 1 << 20));
  for (LocalRegion* r : data_) {
    for (NodeId b : map_.backups(r->id)) {
      const RegionId rep = map_.replica_region(b, r->id);
      for (uint64_t off = 0; off < r->size; off += chunk) {
        const auto len = static_cast<uint32_t>(std::min<uint64_t>(chunk, r->size - off));
        REMORA_RETURN_IF_ERROR(e.read(b, GAddr(rep, static_cast<uint32_t>(off)), scratch.data(), len));
        if (std::memcmp(scratch.data(), r->data + off, len) == 0) continue;
        size_t k = 0;
        while (scratch[k] == r->data[off + k]) ++k;
        return Status::Corrupt(fmt::format("replica of {} on node {} differs at offset {:#x}",
                                           GAddr(r->id, 0).to_string(), b, off + k));
      }
    }
  }
  return Status::OK();
}

std::vector<std::byte> Store::encode_table(const Table& t) {
  std::vector<std::byte> out(8 + 4 * 3 + t.name.size());
  const uint64_t base = t.base.raw();
  std::memcpy(out.data(), &base, 8);
  std::memcpy(out.data() + 8, &t.rows, 4);
  std::memcpy(out.data() + 12, &t.size, 4);
  std::memcpy(out.data() + 16, &t.stride, 4);
  std::memcpy(out.data() + 20, t.name.data(), t.name.size());
  return out;
}

Result<Table> Store::decode_table(std::span<const std::byte> b) {
  if (b.size() < 20) return Status::Corrupt(fmt::format("catalog entry of {} B", b.size()));
  Table t;
  uint64_t base;
  std::memcpy(&base, b.data(), 8);
  std::memcpy(&t.rows, b.data() + 8, 4);
  std::memcpy(&t.size, b.data() + 12, 4);
  std::memcpy(&t.stride, b.data() + 16, 4);
  t.base = GAddr::from_raw(base);
  t.name.assign(reinterpret_cast<const char*>(b.data() + 20), b.size() - 20);
  if (t.stride < obj::footprint(t.size)) return Status::Corrupt("catalog entry: stride below size");
  return t;
}

}  // namespace remora
