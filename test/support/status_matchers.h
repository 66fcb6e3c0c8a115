// ASSERT_OK / EXPECT_OK for Status and Result<T>.
#pragma once

#include <gtest/gtest.h>

#include "remora/common/status.h"

namespace remora::testing {
inline const Status& status_of(const Status& s) { return s; }
template <typename T>
const Status& status_of(const Result<T>& r) {
  static const Status kOk;
  return r.ok() ? kOk : r.status();
}
}  // namespace remora::testing

#define ASSERT_OK(expr)                                                \
  do {                                                                 \
    const auto& _r = (expr);                                           \
    const auto& _s = ::remora::testing::status_of(_r);                 \
    ASSERT_TRUE(_s.ok()) << #expr << " -> " << _s.to_string();         \
  } while (0)
#define EXPECT_OK(expr)                                                \
  do {                                                                 \
    const auto& _r = (expr);                                           \
    const auto& _s = ::remora::testing::status_of(_r);                 \
    EXPECT_TRUE(_s.ok()) << #expr << " -> " << _s.to_string();         \
  } while (0)
