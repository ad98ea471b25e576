#pragma once
// Configuration (contract section 6): flags > environment > $SKILLMEAT_HOME/config.toml [cache]
// > defaults. A bad value is a config_error naming the key and where it came from (exit 2).
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cache/settings.hpp"
#include "net/options.hpp"

namespace projcache::app {

class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct config {
  cache::settings cache;
  net::options net;
  std::string log_level = "info";   // trace|debug|info|warning|error
  std::string log_format = "text";  // text|json
  std::size_t event_ring_size = 10000;  // events kept for replay (the contract: at least 10,000)
  bool home_explicit = false;       // SKILLMEAT_HOME or --home given
  std::vector<std::string> warnings;
};

// Command-line values by config key (the flag parser fills this; absent keys are not set).
using flag_values = std::map<std::string, std::vector<std::string>>;

// env: a lookup (getenv in production, a map in tests).
using env_lookup = std::optional<std::string> (*)(const char*);
std::optional<std::string> process_env(const char* name);

config load_config(const flag_values& flags, env_lookup env = process_env);

// The keys of the [cache] table and their environment variables, for --help and the README.
struct key_doc {
  const char* key;
  const char* env;
  const char* def;
  const char* help;
  // A list: the environment variable's separator (':' or ','); flags repeat. 0: one value.
  char list_separator = 0;
};
const std::vector<key_doc>& config_keys();

}  // namespace projcache::app
