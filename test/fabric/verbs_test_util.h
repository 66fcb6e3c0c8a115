// Shared by the verbs suites: skip without a device, the device to use.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "remora/fabric/fabric.h"
#include "remora/fabric/inventory.h"

namespace remora::testing {

// REMORA_VERBS_DEVICE names the device (the Soft-RoCE VM sets rxe0); else
// the first one libibverbs lists.
inline std::string verbs_test_device() {
  const char* d = std::getenv("REMORA_VERBS_DEVICE");
  if (d && *d) return d;
  auto inv = rdma_inventory();
  return inv.ok() && !inv->empty() ? inv->front().name : std::string();
}

inline FabricOptions verbs_options(NodeId self) {
  FabricOptions o;
  o.transport = "verbs";
  o.self = self;
  o.verbs_device = verbs_test_device();
  return o;
}

}  // namespace remora::testing

// Skips the test on hosts where libibverbs sees no device (CI runs these
// suites inside the Soft-RoCE VM: ci/softroce/run.sh).
#define REMORA_SKIP_WITHOUT_RDMA()                                                   \
  do {                                                                               \
    if (::remora::testing::verbs_test_device().empty())                              \
      GTEST_SKIP() << "no RDMA device visible (run ci/softroce/run.sh for Soft-RoCE)"; \
  } while (0)
