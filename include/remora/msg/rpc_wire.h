// RPC wire layout, carried in ring records of type kRpcRequest/kRpcResponse.
//
//   request  payload: RpcRequestHeader, then the request body
//   response payload: RpcResponseHeader, then message_len bytes of error
//                     message, then the response body (empty on error)
#pragma once

#include <cstdint>
#include <type_traits>

namespace remora {

struct RpcRequestHeader {
  uint64_t id;      // caller-chosen, unique per caller endpoint
  uint16_t method;
  uint16_t reserved0;
  uint32_t reserved1;
};
static_assert(sizeof(RpcRequestHeader) == 16 && std::is_trivially_copyable_v<RpcRequestHeader>);

struct RpcResponseHeader {
  uint64_t id;           // the request's id
  uint8_t code;          // remora::Code of the handler's Status
  uint8_t reserved0;
  uint16_t reserved1;
  uint32_t message_len;  // bytes of Status message following the header
};
static_assert(sizeof(RpcResponseHeader) == 16 && std::is_trivially_copyable_v<RpcResponseHeader>);

}  // namespace remora
