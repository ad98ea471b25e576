#include "app/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <toml++/toml.h>

#include "common/ascii.hpp"
#include "common/paths.hpp"
#include "platform/watch_backend.hpp"

namespace fs = std::filesystem;

namespace projcache::app {

std::optional<std::string> process_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

const std::vector<key_doc>& config_keys() {
  static const std::vector<key_doc> keys{
      {"cache_path", "SKILLMEAT_CACHE_PATH", "$SKILLMEAT_HOME/cache/projcache.db", "SQLite database file"},
      {"ttl_minutes", "SKILLMEAT_CACHE_TTL_MINUTES", "360", "a project is stale after this many minutes"},
      {"refresh_interval_hours", "SKILLMEAT_CACHE_REFRESH_INTERVAL_HOURS", "6.0", "background refresh period"},
      {"max_concurrent_refreshes", "SKILLMEAT_CACHE_MAX_CONCURRENT_REFRESHES", "3", "refreshes running at once"},
      {"enable_background_refresh", "SKILLMEAT_CACHE_ENABLE_BACKGROUND_REFRESH", "true", "periodic refresh on/off"},
      {"retry_base_seconds", "SKILLMEAT_CACHE_RETRY_BASE_SECONDS", "5.0", "first retry delay (doubles)"},
      {"refresh_timeout_seconds", "SKILLMEAT_CACHE_REFRESH_TIMEOUT_SECONDS", "300", "timeout of one attempt"},
      {"debounce_ms", "SKILLMEAT_CACHE_DEBOUNCE_MS", "100", "quiet time after a change on disk"},
      {"watcher", "SKILLMEAT_CACHE_WATCHER", "auto", "file watcher: auto (inotify on Linux, poll elsewhere), inotify or poll"},
      {"poll_interval_ms", "SKILLMEAT_CACHE_POLL_INTERVAL_MS", "1000", "poll watcher: time between two looks at the disk"},
      {"max_cache_size_mb", "SKILLMEAT_CACHE_MAX_CACHE_SIZE_MB", "500", "database size cap (oldest fingerprints, marketplace rows go first)"},
      {"cleanup_retention_days", "SKILLMEAT_CACHE_CLEANUP_RETENTION_DAYS", "30", "purge fingerprints of vanished files, old marketplace rows"},
      {"search_roots", "SKILLMEAT_CACHE_SEARCH_ROOTS", "~/projects:~/dev:~/workspace:~/src", "where projects are found", ':'},
      {"projects", "SKILLMEAT_CACHE_PROJECTS", "", "explicit project paths (':'-separated)", ':'},
      {"host", "SKILLMEAT_CACHE_HOST", "127.0.0.1", "address to bind"},
      {"port", "SKILLMEAT_CACHE_PORT", "8765", "port to bind (0: ephemeral)"},
      {"marketplace_url", "SKILLMEAT_CACHE_MARKETPLACE_URL", "", "marketplace listings URL (off when empty)"},
      {"threads", "SKILLMEAT_CACHE_THREADS", "cores", "I/O threads"},
      {"log_level", "SKILLMEAT_CACHE_LOG_LEVEL", "info", "trace|debug|info|warning|error"},
      {"log_format", "SKILLMEAT_CACHE_LOG_FORMAT", "text", "text|json"},
      {"allowed_hosts", "SKILLMEAT_CACHE_ALLOWED_HOSTS", "", "extra Host names accepted (':'-separated)", ':'},
      {"cors_origins", "SKILLMEAT_CACHE_CORS_ORIGINS", "http://localhost:3000,...", "allowed browser origins (','-separated)", ','},
      {"max_connections", "SKILLMEAT_CACHE_MAX_CONNECTIONS", "1024", "open connections at most"},
      {"request_timeout_ms", "SKILLMEAT_CACHE_REQUEST_TIMEOUT_MS", "10000", "time to read a whole request"},
      {"idle_timeout_ms", "SKILLMEAT_CACHE_IDLE_TIMEOUT_MS", "60000", "keep-alive wait for the next request"},
      {"event_ring_size", "SKILLMEAT_CACHE_EVENT_RING_SIZE", "10000", "events kept for WebSocket replay (10000 or more)"},
      {"ws_queue_messages", "SKILLMEAT_CACHE_WS_QUEUE_MESSAGES", "4096", "events queued per WebSocket client at most"},
      {"ws_queue_bytes", "SKILLMEAT_CACHE_WS_QUEUE_BYTES", "8388608", "bytes queued per WebSocket client at most"},
  };
  return keys;
}

namespace {

// One raw value and where it came from, for error messages.
struct raw {
  std::vector<std::string> values;
  std::string source;
};

[[noreturn]] void bad(const std::string& key, const raw& r, const std::string& expected) {
  std::string shown = r.values.empty() ? "" : r.values.front();
  throw config_error("invalid value '" + shown + "' for " + key + " (from " + r.source + "): expected " + expected);
}

std::int64_t as_int(const std::string& key, const raw& r, std::int64_t min, std::int64_t max) {
  const std::string& s = r.values.at(0);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE || v < min || v > max)
    bad(key, r, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return v;
}

// "auto" or a backend this build has: a portable build has no inotify.
std::string as_watcher(const raw& r) {
  const std::string& v = r.values.at(0);
  auto have = platform::watch_backends();
  if (v == "auto" || std::find(have.begin(), have.end(), v) != have.end()) return v;
  if (v == "inotify")
    throw config_error("the inotify watcher is Linux-only and this build is portable (from " + r.source +
                       "): use watcher = \"poll\" or \"auto\"");
  std::string expected = "auto";
  for (auto b : have) expected += ", " + std::string(b);
  bad("watcher", r, expected);
}

double as_double(const std::string& key, const raw& r, double min, bool strictly_positive) {
  const std::string& s = r.values.at(0);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= min) || (strictly_positive && v <= 0) || v > 1e9)
    bad(key, r, strictly_positive ? "a positive number" : "a non-negative number");
  return v;
}

bool as_bool(const std::string& key, const raw& r) {
  std::string s = ascii_lower(r.values.at(0));
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  bad(key, r, "true or false");
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// The [cache] table of config.toml as raw strings.
std::map<std::string, raw> read_toml(const fs::path& file, std::vector<std::string>& warnings) {
  std::map<std::string, raw> out;
  std::error_code ec;
  if (!fs::exists(file, ec)) return out;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw config_error("cannot read config file " + file.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    throw config_error("malformed config file " + file.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                       std::string(e.description()));
  }
  auto* cache = root.get("cache");
  if (!cache) return out;
  auto* t = cache->as_table();
  if (!t) throw config_error(file.string() + ": [cache] must be a table");
  for (auto& [k, v] : *t) {
    std::string key(k.str());
    bool known = false;
    for (auto& d : config_keys()) known = known || key == d.key;
    std::string source = file.string() + " [cache] line " + std::to_string(v.source().begin.line);
    if (!known) {
      warnings.push_back("unknown key '" + key + "' in " + source + " (ignored)");
      continue;
    }
    raw r{{}, source};
    if (auto* arr = v.as_array()) {
      for (auto& el : *arr) {
        auto s = el.value_exact<std::string>();
        if (!s) throw config_error("invalid value for " + key + " (from " + source + "): expected an array of strings");
        r.values.push_back(*s);
      }
    } else if (auto s = v.value_exact<std::string>()) {
      r.values.push_back(*s);
    } else if (auto b = v.value_exact<bool>()) {
      r.values.push_back(*b ? "true" : "false");
    } else if (auto i = v.value_exact<int64_t>()) {
      r.values.push_back(std::to_string(*i));
    } else if (auto d = v.value_exact<double>()) {
      r.values.push_back(std::to_string(*d));
    } else {
      throw config_error("invalid value for " + key + " (from " + source + "): unsupported TOML type");
    }
    out[key] = std::move(r);
  }
  return out;
}

}  // namespace

namespace {
using raw_values = std::map<std::string, raw>;

// What each key was given as, and where from: config.toml, then the environment, then flags.
raw_values gather(const config& c, const flag_values& flags, env_lookup env, std::vector<std::string>& warnings) {
  raw_values values = read_toml(c.cache.home / "config.toml", warnings);
  for (auto& d : config_keys())
    if (auto v = env(d.env); v) {
      if (!d.list_separator && v->empty()) continue;  // an empty variable means unset
      raw r{d.list_separator ? split(*v, d.list_separator) : std::vector<std::string>{*v},
            std::string("environment ") + d.env};
      values[d.key] = std::move(r);
    }
  for (auto& [key, vals] : flags)
    if (key != "home") {
      std::string flag = key;  // as the user typed it: --ttl-minutes
      std::replace(flag.begin(), flag.end(), '_', '-');
      values[key] = raw{vals, "--" + flag};
    }
  return values;
}

const raw* lookup(const raw_values& values, const char* key) {
  auto it = values.find(key);
  return it == values.end() ? nullptr : &it->second;
}

void apply_cache(const raw_values& values, cache::settings& s) {
  auto get = [&](const char* key) { return lookup(values, key); };
  s.db_path = s.home / "cache" / "projcache.db";
  if (auto* r = get("cache_path")) s.db_path = expand_home(r->values.at(0));
  if (auto* r = get("ttl_minutes")) s.ttl_minutes = as_int("ttl_minutes", *r, 1, 10'000'000);
  if (auto* r = get("refresh_interval_hours")) s.refresh_interval_hours = as_double("refresh_interval_hours", *r, 0, true);
  if (auto* r = get("max_concurrent_refreshes")) s.max_concurrent_refreshes = static_cast<int>(as_int("max_concurrent_refreshes", *r, 1, 256));
  if (auto* r = get("enable_background_refresh")) s.enable_background_refresh = as_bool("enable_background_refresh", *r);
  if (auto* r = get("retry_base_seconds")) s.retry_base_seconds = as_double("retry_base_seconds", *r, 0, false);
  if (auto* r = get("refresh_timeout_seconds")) s.refresh_timeout_seconds = as_double("refresh_timeout_seconds", *r, 0, true);
  if (auto* r = get("debounce_ms")) s.debounce_ms = static_cast<int>(as_int("debounce_ms", *r, 0, 600'000));
  if (auto* r = get("watcher")) s.watcher = as_watcher(*r);
  if (auto* r = get("poll_interval_ms")) s.poll_interval_ms = static_cast<int>(as_int("poll_interval_ms", *r, 10, 600'000));
  if (auto* r = get("max_cache_size_mb")) s.max_cache_size_bytes = as_int("max_cache_size_mb", *r, 1, 1'000'000) * 1024 * 1024;
  if (auto* r = get("cleanup_retention_days")) s.retention_days = as_double("cleanup_retention_days", *r, 0, true);
  std::vector<std::string> roots{"~/projects", "~/dev", "~/workspace", "~/src"};
  if (auto* r = get("search_roots")) roots = r->values;
  for (auto& root : roots) s.search_roots.push_back(expand_home(root));
  if (auto* r = get("projects"))
    for (auto& p : r->values) s.explicit_projects.push_back(expand_home(p));
  if (auto* r = get("marketplace_url"); r && !r->values.empty() && !r->values[0].empty()) {
    auto& u = r->values[0];
    if (!u.starts_with("http://") && !u.starts_with("https://")) bad("marketplace_url", *r, "an http:// or https:// URL");
    s.marketplace_url = u;
  }
}

void apply_net(const raw_values& values, config& c) {
  auto get = [&](const char* key) { return lookup(values, key); };
  auto& n = c.net;
  if (auto* r = get("host")) n.host = r->values.at(0);
  if (auto* r = get("port")) n.port = static_cast<std::uint16_t>(as_int("port", *r, 0, 65535));
  n.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (auto* r = get("threads")) n.threads = static_cast<int>(as_int("threads", *r, 1, 256));
  if (auto* r = get("allowed_hosts")) n.allowed_hosts = r->values;
  if (auto* r = get("cors_origins")) n.cors_origins = r->values;
  if (auto* r = get("max_connections")) n.max_connections = static_cast<std::size_t>(as_int("max_connections", *r, 1, 1'000'000));
  if (auto* r = get("request_timeout_ms")) n.request_timeout = std::chrono::milliseconds(as_int("request_timeout_ms", *r, 10, 3'600'000));
  if (auto* r = get("idle_timeout_ms")) n.idle_timeout = std::chrono::milliseconds(as_int("idle_timeout_ms", *r, 10, 3'600'000));
  if (auto* r = get("event_ring_size")) c.event_ring_size = static_cast<std::size_t>(as_int("event_ring_size", *r, 10000, 10'000'000));
  if (auto* r = get("ws_queue_messages")) n.ws_queue_messages = static_cast<std::size_t>(as_int("ws_queue_messages", *r, 1, 10'000'000));
  if (auto* r = get("ws_queue_bytes")) n.ws_queue_bytes = static_cast<std::size_t>(as_int("ws_queue_bytes", *r, 1024, 1LL << 32));
}

void apply_logging(const raw_values& values, config& c) {
  if (auto* r = lookup(values, "log_level")) {
    c.log_level = r->values.at(0);
    if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" && c.log_level != "warning" &&
        c.log_level != "error")
      bad("log_level", *r, "trace, debug, info, warning or error");
  }
  if (auto* r = lookup(values, "log_format")) {
    c.log_format = r->values.at(0);
    if (c.log_format != "text" && c.log_format != "json") bad("log_format", *r, "text or json");
  }
}

// SkillMeat's API key settings come from the environment only (or --api-key).
void apply_api_key(const raw_values& values, env_lookup env, net::options& n) {
  bool key_enabled = false;
  if (auto v = env("SKILLMEAT_API_KEY_ENABLED"); v && !v->empty())
    key_enabled = as_bool("SKILLMEAT_API_KEY_ENABLED", raw{{*v}, "environment SKILLMEAT_API_KEY_ENABLED"});
  // A blank key would let an empty X-API-Key through: a configuration error from any source.
  auto blank = [](const std::string& k) { return k.find_first_not_of(" \t\r\n") == std::string::npos; };
  if (auto* r = lookup(values, "api_key")) {
    if (blank(r->values.at(0)))
      throw config_error("--api-key is empty or blank: give a key, or leave the flag out to run without one");
    n.api_key = r->values.at(0);
  } else if (key_enabled) {
    auto k = env("SKILLMEAT_API_KEY");
    if (!k || blank(*k))
      throw config_error("SKILLMEAT_API_KEY_ENABLED is true but SKILLMEAT_API_KEY is empty or blank (from environment): "
                         "set a key, or set SKILLMEAT_API_KEY_ENABLED=false");
    n.api_key = *k;
  }
}
}  // namespace

config load_config(const flag_values& flags, env_lookup env) {
  config c;
  // Where the home is decides where config.toml is: flag > env > default.
  std::string home_str = "~/.skillmeat";
  if (auto it = flags.find("home"); it != flags.end() && !it->second.empty()) {
    home_str = it->second.back();
    c.home_explicit = true;
  } else if (auto h = env("SKILLMEAT_HOME"); h && !h->empty()) {
    home_str = *h;
    c.home_explicit = true;
  }
  c.cache.home = resolve_path(expand_home(home_str));
  auto values = gather(c, flags, env, c.warnings);
  apply_cache(values, c.cache);
  apply_net(values, c);
  apply_logging(values, c);
  apply_api_key(values, env, c.net);
  return c;
}

}  // namespace projcache::app
