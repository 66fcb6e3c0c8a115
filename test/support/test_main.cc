// gtest main shared by all suites. Keeps UCX quiet about our env variables.
#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  setenv("UCX_WARN_UNUSED_ENV_VARS", "n", 0);
  return RUN_ALL_TESTS();
}
