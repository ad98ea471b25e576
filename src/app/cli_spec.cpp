#include "app/cli_spec.hpp"

#include <set>

#include "app/config.hpp"

namespace projcache::app {

namespace {
// A command's own option: a value (arg given) or a switch.
option_spec value(std::string flag, std::string arg, std::string help, std::string def = {}) {
  option_spec o;
  o.flag = std::move(flag);
  o.arg = std::move(arg);
  o.help = std::move(help);
  o.def = std::move(def);
  return o;
}
option_spec toggle(std::string flag, std::string help, std::string def = {}) { return value(flag, "", help, def); }
option_spec path_value(std::string flag, std::string arg, std::string help, std::string def = {}) {
  auto o = value(std::move(flag), std::move(arg), std::move(help), std::move(def));
  o.path = true;
  return o;
}

// A configuration key as a flag: its environment variable and default in the help.
option_spec config_option(const key_doc& k) {
  option_spec o;
  o.flag = k.key;
  for (auto& ch : o.flag)
    if (ch == '_') ch = '-';
  std::string key = k.key;
  o.multi = k.list_separator != 0;
  o.path = key == "cache_path" || key == "search_roots" || key == "projects";
  o.arg = o.path ? (key == "cache_path" ? "FILE" : "DIR") : "VALUE";
  o.help = k.help;
  o.env = k.env;
  o.def = k.def;
  return o;
}

option_spec home_option() {
  option_spec o = value("home", "DIR", "the SkillMeat home");
  o.env = "SKILLMEAT_HOME";
  o.def = "~/.skillmeat";
  o.path = true;
  return o;
}
option_spec api_key_option() {
  option_spec o = value("api-key", "KEY", "the X-API-Key the server requires");
  o.env = "SKILLMEAT_API_KEY (with SKILLMEAT_API_KEY_ENABLED=true)";
  return o;
}

// home, then these configuration keys, in the table's order.
std::vector<option_spec> config_options(const std::set<std::string>& keys) {
  std::vector<option_spec> out{home_option()};
  for (auto& k : config_keys())
    if (keys.empty() || keys.count(k.key)) out.push_back(config_option(k));
  return out;
}

option_spec benchmarks_only(option_spec o) {
  o.hidden = true;
  return o;
}

std::vector<option_spec> with(std::vector<option_spec> own, std::vector<option_spec> rest) {
  own.insert(own.end(), rest.begin(), rest.end());
  return own;
}

const std::set<std::string> store_keys{"cache_path"};
const std::set<std::string> refresh_keys{"cache_path",          "ttl_minutes",  "max_concurrent_refreshes",
                                          "retry_base_seconds",  "refresh_timeout_seconds",
                                          "search_roots",        "projects",     "log_level",
                                          "log_format"};
}  // namespace

const std::vector<command_spec>& commands() {
  static const std::vector<command_spec> all{
      {"serve", "serve [options]", "run the server",
       "Serves the cache over HTTP and WebSocket, keeps it fresh from the disk, and prints one JSON ready line on "
       "stdout once it accepts requests (a banner goes to stderr).",
       with({path_value("port-file", "FILE", "also write the ready line to this file (atomically)"),
             value("exit-with-parent", "true|false", "exit when the parent process dies", "true when stdin is not a terminal"),
             toggle("demo-if-missing", "serve a generated demo world when the home has no collections"),
             benchmarks_only(toggle("bench-routes", "enable POST /api/v1/bench/publish"))},
            with(config_options({}), {api_key_option()})),
       {},
       {"projcache serve", "projcache serve --port 0 --search-roots ~/code", "projcache serve --log-format json"}},
      {"status", "status [--json|--text]", "what the cache holds",
       "Reads the database (no lock: works beside a running server) and says how many projects and artifacts it "
       "holds, how many are stale or outdated, and whether a server runs.",
       with({toggle("json", "print JSON", "when stdout is not a terminal"),
             toggle("text", "print a readable summary", "on a terminal")},
            config_options({"cache_path", "ttl_minutes"})),
       {},
       {"projcache status", "projcache status --json | jq .total_projects"}},
      {"refresh", "refresh [PROJECT] [--force] [--offline]", "refresh everything, or one project, once",
       "Refreshes from the disk and prints the result as POST /api/v1/cache/refresh answers it. With a server "
       "running, the refresh goes through its API.",
       with({value("project", "ID", "one project's id (base64 of its path)"),
             toggle("force", "refresh even what is fresh"),
             toggle("offline", "never through a running server: fail when one holds the database")},
            with(config_options(refresh_keys), {api_key_option()})),
       {"project"},
       {"projcache refresh", "projcache refresh --force", "projcache refresh L2hvbWUvdS9hcHA= --force"}},
      {"clear", "clear [--yes] [--offline]", "empty the cache database",
       "Empties the cache (asking first). With a server running, it goes through its API, which finds every "
       "project again.",
       with({toggle("yes", "do not ask"), toggle("offline", "never through a running server")},
            with(config_options({"cache_path", "search_roots", "projects", "log_level", "log_format"}),
                 {api_key_option()})),
       {},
       {"projcache clear", "projcache clear --yes"}},
      {"check", "check [--full]", "integrity check of the database",
       "SQLite's quick_check (or integrity_check with --full), read-only: works beside a running server.",
       with({toggle("full", "integrity_check instead of quick_check")}, config_options(store_keys)),
       {},
       {"projcache check", "projcache check --full"}},
      {"vacuum", "vacuum [--offline]", "compact the database",
       "VACUUM and ANALYZE now. With a server running, it goes through its API.",
       with({toggle("offline", "never through a running server")},
            with(config_options({"cache_path", "log_level", "log_format"}), {api_key_option()})),
       {},
       {"projcache vacuum"}},
      {"migrate", "migrate up|down [N]|status", "apply, revert or list schema migrations",
       "up applies every pending migration, down reverts N (default 1), status lists them (read-only).",
       with({value("action", "up|down|status", "what to do", "status"), value("steps", "N", "how many migrations down reverts", "1")},
            config_options(store_keys)),
       {"action", "steps"},
       {"projcache migrate status", "projcache migrate up", "projcache migrate down 2"}},
      {"demo", "demo [DIR]", "write a demo SkillMeat world",
       "Writes a collection and three projects with every drift state, and says how to serve them.",
       {path_value("dir", "DIR", "where to write it", "./projcache-demo")},
       {"dir"},
       {"projcache demo /tmp/demo"}},
      {"completion", "completion bash|zsh", "print a shell completion script",
       "Prints the completion script for bash or zsh (cmake --install puts both where the shells look).",
       {value("shell", "bash|zsh", "which shell")},
       {"shell"},
       {"source <(projcache completion bash)"}},
      {"man", "man", "print the man page (roff)", "Prints projcache(1).", {}, {}, {"projcache man | man -l -"}},
      {"version", "version", "print the version", "Prints the version.", {}, {}, {}},
  };
  return all;
}

const command_spec* find_command(const std::string& name) {
  for (auto& c : commands())
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace projcache::app
