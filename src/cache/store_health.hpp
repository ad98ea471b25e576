#pragma once
// Whether the store takes writes. A write that fails (a full disk, a read-only file) is not
// fatal: reads go on from the in-memory snapshot, each kind of failure is logged once (not once
// per attempt), /cache/status says the store is degraded, and the first write that works
// again clears it.
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "db/types.hpp"

namespace projcache::cache {

struct store_state {
  bool degraded = false;
  std::optional<std::string> detail;  // what failed and why, in a user's words
  std::optional<micros> since;
  std::uint64_t failed_writes = 0;
  bool operator==(const store_state&) const = default;
};

class store_health {
 public:
  // `what` names the write ("writing project rows"); `why` is db::describe_failure's text.
  void failed(const std::string& what, const std::string& why);
  void succeeded();
  bool degraded() const;
  store_state state() const;

 private:
  mutable std::mutex mu_;
  store_state state_;
  std::set<std::string> logged_;  // the kinds already logged while degraded
};

}  // namespace projcache::cache
