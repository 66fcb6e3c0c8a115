// A blocking hiredis connection for the Redis SmallBank comparator
// (bench/redis_bank.cc): pipelined commands, replies as owned values, every
// hiredis error turned into a Status in one place.
//
// Thread safety: none; one connection per client thread.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "remora/common/status.h"

namespace remora::redis {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// "127.0.0.1" for "localhost", the address itself for a numeric IPv4
// address in 127.0.0.0/8 or "::1"; InvalidArgument for anything else: this
// tool only ever talks to a server on this machine.
Result<std::string> loopback_host(const std::string& host);

class RedisClient {
 public:
  // REQUIRES: `host` passed loopback_host(). Connects within
  // `connect_timeout`; every later reply must come within `reply_timeout`.
  static Result<std::unique_ptr<RedisClient>> connect(const std::string& host, int port,
                                                      std::chrono::milliseconds connect_timeout,
                                                      std::chrono::milliseconds reply_timeout);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Queues one command (sent with the next reply() call): pipelining is
  // append, append, ..., then one reply() per appended command, in order.
  Status append(const std::vector<std::string>& args);
  Status append(std::initializer_list<std::string_view> args);

  // The next reply. An error reply from the server is returned as a reply
  // (type REDIS_REPLY_ERROR); a broken connection or a timeout is an
  // IoError, after which this client is unusable.
  Result<Reply> reply();

  // One command, one reply; an error reply becomes an InvalidArgument
  // naming the command.
  Result<Reply> command(std::initializer_list<std::string_view> args);

  // Reads a reply that must be a status such as "OK" or "QUEUED".
  Status expect_status(std::string_view want, std::string_view what);

  const std::string& where() const { return where_; }

 private:
  RedisClient(redisContext* c, std::string where) : c_(c), where_(std::move(where)) {}
  Status io_error() const;

  redisContext* c_;
  std::string where_;  // "127.0.0.1:6379", for messages
};

// "ERR ..." -> Status naming `what`; OK for any other reply.
Status check_reply(const redisReply& r, std::string_view what);

}  // namespace remora::redis
