#include "redis_client.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

namespace remora::redis {

namespace {

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

Status append_argv(redisContext* c, const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK)
    return Status::Internal("hiredis could not format a command (out of memory)");
  return Status::OK();
}

}  // namespace

Result<std::string> loopback_host(const std::string& host) {
  if (host == "localhost") return std::string("127.0.0.1");
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) == 127) return host;
  } else {
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6)) return host;
  }
  return Status::InvalidArgument(fmt::format(
      "--host {} is not a loopback address: this benchmark only talks to a Redis server on this machine "
      "(use 127.0.0.1)",
      host));
}

Result<std::unique_ptr<RedisClient>> RedisClient::connect(const std::string& host, int port,
                                                          std::chrono::milliseconds connect_timeout,
                                                          std::chrono::milliseconds reply_timeout) {
  const std::string where = fmt::format("{}:{}", host, port);
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, to_timeval(connect_timeout));
  if (c == nullptr) return Status::OutOfMemory(fmt::format("cannot allocate a Redis connection to {}", where));
  if (c->err != 0) {
    std::string why = c->errstr;
    redisFree(c);
    return Status::IoError(fmt::format("cannot connect to Redis at {}: {}", where, why));
  }
  if (redisSetTimeout(c, to_timeval(reply_timeout)) != REDIS_OK) {
    redisFree(c);
    return Status::IoError(fmt::format("cannot set the reply timeout on {}", where));
  }
  return std::unique_ptr<RedisClient>(new RedisClient(c, where));
}

RedisClient::~RedisClient() { redisFree(c_); }

Status RedisClient::append(const std::vector<std::string>& args) {
  return append_argv(c_, std::vector<std::string_view>(args.begin(), args.end()));
}

Status RedisClient::append(std::initializer_list<std::string_view> args) {
  return append_argv(c_, std::vector<std::string_view>(args));
}

Status RedisClient::io_error() const {
  // hiredis reports a read timeout as an I/O error with EAGAIN's text.
  const bool timeout = c_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
  return Status::IoError(fmt::format("Redis connection to {} failed: {}", where_,
                                     timeout ? "no reply in time (server hung or overloaded)" : c_->errstr));
}

Result<Reply> RedisClient::reply() {
  if (c_->err != 0) return io_error();
  void* r = nullptr;
  if (redisGetReply(c_, &r) != REDIS_OK || r == nullptr) return io_error();
  return Reply(static_cast<redisReply*>(r));
}

Result<Reply> RedisClient::command(std::initializer_list<std::string_view> args) {
  REMORA_RETURN_IF_ERROR(append(args));
  auto r = reply();
  if (!r.ok()) return r.status();
  REMORA_RETURN_IF_ERROR(check_reply(**r, *args.begin()));
  return r;
}

Status RedisClient::expect_status(std::string_view want, std::string_view what) {
  auto r = reply();
  if (!r.ok()) return r.status();
  REMORA_RETURN_IF_ERROR(check_reply(**r, what));
  const redisReply& x = **r;
  if (x.type != REDIS_REPLY_STATUS || std::string_view(x.str, x.len) != want)
    return Status::Corrupt(fmt::format("{}: expected {} from Redis, got reply type {}", what, want, x.type));
  return Status::OK();
}

Status check_reply(const redisReply& r, std::string_view what) {
  if (r.type != REDIS_REPLY_ERROR) return Status::OK();
  return Status::InvalidArgument(fmt::format("Redis refused {}: {}", what, std::string_view(r.str, r.len)));
}

}  // namespace remora::redis
