#include "remora/fabric/types.h"

#include <fmt/format.h>

namespace remora {

std::string GAddr::to_string() const { return fmt::format("r{}+{:#x}", region(), offset()); }

std::string_view op_name(Op op) {
  switch (op) {
    case Op::kRead: return "read";
    case Op::kWrite: return "write";
    case Op::kCas: return "cas";
    case Op::kFaa: return "faa";
  }
  return "?";
}

}  // namespace remora
