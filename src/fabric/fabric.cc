#include "remora/fabric/fabric.h"

#include "fabric/ucx/ucx_fabric.h"
#include "fabric/verbs/verbs_fabric.h"

namespace remora {

Result<std::unique_ptr<Fabric>> Fabric::create(const FabricOptions& opts) {
  if (opts.transport == "ucx") return UcxFabric::create(opts);
  if (opts.transport == "verbs") return VerbsFabric::create(opts);
  return Status::InvalidArgument("unknown transport \"" + opts.transport +
                                 "\" (expected \"ucx\" or \"verbs\")");
}

}  // namespace remora
