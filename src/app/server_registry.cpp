#include "app/server_registry.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;

namespace projcache::app {

namespace {

// The folder is ours alone: created 0700, and not used when someone else owns it (a shared /tmp).
bool usable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) return false;
  ::chmod(dir.c_str(), 0700);
  return true;
}
}  // namespace

server_registry::server_registry() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::error_code ec;
  if (runtime && *runtime && fs::is_directory(runtime, ec))
    dir_ = fs::path(runtime) / "projcache";
  else
    dir_ = fs::temp_directory_path(ec) / ("projcache-" + std::to_string(::getuid()));
}

fs::path server_registry::entry(std::uint16_t port) const { return dir_ / (std::to_string(port) + ".json"); }

void server_registry::record(std::uint16_t port, const std::string& ready_line) const {
  if (!usable_dir(dir_)) return;
  prune();
  auto tmp = entry(port).string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << ready_line << "\n";
    if (!out) return;
  }
  std::error_code ec;
  fs::rename(tmp, entry(port), ec);
  if (ec) fs::remove(tmp, ec);
}

// Entries of servers that ended without forgetting theirs (killed, or a second signal's
// immediate exit) go when the next server records itself, so the folder stays small.
void server_registry::prune() const {
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    std::ifstream in(it->path());
    std::string line;
    std::getline(in, line);
    auto s = parse_ready_line(line);
    std::error_code rm;
    if (!s || !still_running(*s)) fs::remove(it->path(), rm);
  }
}

void server_registry::forget(std::uint16_t port) const {
  auto s = find(port);
  std::error_code ec;
  if (s && s->pid == ::getpid()) fs::remove(entry(port), ec);
}

bool still_running(const running_server& s) {
  return s.pid > 0 && (::kill(static_cast<pid_t>(s.pid), 0) == 0 || errno == EPERM);
}

std::optional<running_server> parse_ready_line(const std::string& line) {
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto& o = v.as_object();
  auto* pid = o.if_contains("pid");
  auto* url = o.if_contains("url");
  auto* db = o.if_contains("db");
  if (!pid || !pid->is_int64() || !url || !url->is_string()) return std::nullopt;
  return running_server{static_cast<long>(pid->as_int64()), std::string(url->as_string()),
                        db && db->is_string() ? std::string(db->as_string()) : std::string()};
}

std::optional<running_server> lock_file_holder(const std::string& db_path) {
  std::ifstream in(db_path + ".lock");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  return parse_ready_line(line);
}

std::optional<running_server> server_registry::find(std::uint16_t port) const {
  std::ifstream in(entry(port));
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  auto s = parse_ready_line(line);
  if (!s || !still_running(*s)) return std::nullopt;
  return s;
}

}  // namespace projcache::app
