// bank: SmallBank on a Remora cluster (apps/common/app_main.h for the
// command line shared by every app).
//
//   bank --config configs/local-3.toml            every node of the config as
//                                                 a process on this machine
//   bank --config cluster.toml --id 2             only node 2 (multi-host)
//
// Prints a human summary on stderr and JSON lines on stdout (one per node,
// then a "cluster" line in the first form). Exit 1 if a node failed, the
// money invariant broke or a replica differs from its primary.
#include "app_main.h"
#include "bank_node.h"

int main(int argc, char** argv) {
  using namespace remora;
  app::CommonArgs a;
  bank::BankOptions b;
  CLI::App cli{"SmallBank on Remora: every node of a local config, or one node with --id"};
  app::add_common_options(cli, a);
  cli.add_option("--accounts", b.accounts, "accounts per node")->check(CLI::Range(1u, 10000000u));
  cli.add_option("--hot", b.hot, "hot accounts cluster-wide (90% of accesses); 0 = uniform");
  CLI11_PARSE(cli, argc, argv);
  bank::BankWorkload w(b);
  return app::run_app(argc, argv, a, w);
}
