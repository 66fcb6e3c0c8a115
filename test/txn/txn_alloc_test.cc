// Transactional alloc and free over in-process nodes: slots and runs,
// reuse after free, slab exhaustion, double frees, aborts giving slots back.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <set>

#include "remora/txn/object.h"
#include "support/status_matchers.h"
#include "txn/txn_loopback.h"

namespace remora::testing {
namespace {

struct Item {
  uint64_t key;
  uint64_t value;
};
struct Huge {  // larger than half a 64 KiB block: a run of whole blocks
  std::array<uint64_t, 6000> words;
};

class TxnAllocTest : public ::testing::Test {
 protected:
  void SetUp() override { build({}); }
  void build(TxnLoopbackSpec spec) {
    ASSERT_NO_FATAL_FAILURE(build_loopback(spec, &c_));
  }
  template <typename T, typename Init>
  Result<GAddr> alloc_on(NodeId n, Init init) {
    return c_->alloc<T>(n, init);
  }
  Status free_on(NodeId n, GAddr a, size_t size) { return c_->free(n, a, static_cast<uint32_t>(size)); }
  std::unique_ptr<TxnLoopback> c_;
};

TEST_F(TxnAllocTest, AllocatedObjectIsReadableEverywhereAndFreeMakesItNotFound) {
  auto a = alloc_on<Item>(1, [](Item& i) { i = {7, 49}; });
  ASSERT_OK(a);
  EXPECT_EQ(region_owner(a->region()), 1) << "allocated on the coordinator's node";
  for (NodeId n = 0; n < 3; ++n) {
    ASSERT_OK(c_->on(n, [&](Context& ctx) {
      auto r = c_->txn(n).lockfree_read<Item>(ctx, *a);
      if (r.ok()) {
        EXPECT_EQ(r->value, 49u);
      }
      return r.status();
    }));
  }
  ASSERT_OK(free_on(0, *a, sizeof(Item)));
  Status st = c_->on(2, [&](Context& ctx) { return c_->txn(2).lockfree_read<Item>(ctx, *a).status(); });
  EXPECT_EQ(st.code(), Code::kNotFound);
  // Freeing it again: the read already says it is gone.
  EXPECT_EQ(free_on(2, *a, sizeof(Item)).code(), Code::kNotFound);
  const uint64_t w = obj::load_word(c_->store(1).local_object(*a, 32));
  EXPECT_FALSE(obj::allocated(w));
  EXPECT_EQ(obj::version(w), 2u) << "alloc and free are versioned writes";
}

TEST_F(TxnAllocTest, DoubleFreeInOneTransactionIsRefused) {
  auto a = alloc_on<Item>(0, [](Item& i) { i.key = 1; });
  ASSERT_OK(a);
  Status second;
  ASSERT_OK(c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      auto r = tx.read<Item>(*a);
      if (!r.ok()) return r.status();
      REMORA_RETURN_IF_ERROR(tx.free(*r));
      second = tx.free(*r);
      return Status::OK();
    });
  }));
  EXPECT_EQ(second.code(), Code::kInvalidArgument) << second.to_string();
}

TEST_F(TxnAllocTest, FreedSlotIsReusedWithAHigherVersion) {
  auto a = alloc_on<Item>(2, [](Item& i) { i.key = 1; });
  ASSERT_OK(a);
  ASSERT_OK(free_on(2, *a, sizeof(Item)));
  auto b = alloc_on<Item>(2, [](Item& i) { i.key = 2; });
  ASSERT_OK(b);
  EXPECT_EQ(*a, *b) << "the free list hands the slot out again";
  EXPECT_EQ(obj::load_word(c_->store(2).local_object(*b, 32)), obj::kAllocBit | 3);
}

TEST_F(TxnAllocTest, AbortedAllocGivesTheSlotBack) {
  GAddr first;
  Status st = c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      auto r = tx.alloc<Item>();
      if (!r.ok()) return r.status();
      first = r->addr();
      return Status::Aborted("changed my mind");
    });
  });
  EXPECT_EQ(st.code(), Code::kAborted);
  EXPECT_FALSE(obj::allocated(obj::load_word(c_->store(0).local_object(first, 32))));
  auto again = alloc_on<Item>(0, [](Item&) {});
  ASSERT_OK(again);
  EXPECT_EQ(*again, first);
}

TEST_F(TxnAllocTest, SlabExhaustionIsOutOfMemoryAndFreeingMakesRoom) {
  TxnLoopbackSpec spec;
  spec.nodes = 2;
  spec.region_size = 256 << 10;  // 4 blocks of 64 KiB
  build(spec);
  struct Big {
    std::array<uint64_t, 2500> w;  // ~20 KiB: 32 KiB slots, 2 per block
  };
  std::set<uint64_t> got;
  GAddr last;
  for (int i = 0; i < 8; ++i) {
    auto a = alloc_on<Big>(0, [](Big& b) { b.w[0] = 1; });
    ASSERT_OK(a);
    got.insert(a->raw());
    last = *a;
  }
  EXPECT_EQ(got.size(), 8u);
  auto full = alloc_on<Big>(0, [](Big&) {});
  EXPECT_EQ(full.status().code(), Code::kOutOfMemory) << full.status().to_string();
  EXPECT_EQ(c_->txn(0).stats().aborts_total(), 1u);
  ASSERT_OK(free_on(1, last, sizeof(Big)));  // freed by another node's transaction
  auto again = alloc_on<Big>(0, [](Big&) {});
  ASSERT_OK(again);
  EXPECT_EQ(*again, last);
}

TEST_F(TxnAllocTest, ObjectsLargerThanHalfABlockTakeWholeBlocks) {
  auto a = alloc_on<Huge>(1, [](Huge& h) {
    for (size_t i = 0; i < h.words.size(); ++i) h.words[i] = i * 3;
  });
  ASSERT_OK(a);
  EXPECT_EQ(a->offset() % (64 << 10), 0u);
  ASSERT_OK(c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      auto r = tx.read<Huge>(*a);  // 48 KiB: read in scratch-sized pieces
      if (!r.ok()) return r.status();
      for (size_t i = 0; i < (*r)->words.size(); ++i)
        if ((*r)->words[i] != i * 3) return Status::Internal("wrong word");
      tx.write(*r)->words[5] = 1;
      return Status::OK();
    });
  }));
  ASSERT_OK(free_on(2, *a, sizeof(Huge)));
  auto b = alloc_on<Huge>(1, [](Huge&) {});
  ASSERT_OK(b);
  EXPECT_EQ(*a, *b) << "the run went back to the blocks";
}

}  // namespace
}  // namespace remora::testing
