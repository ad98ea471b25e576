#pragma once
// The command line as data: each command, its synopsis, its own options (and which of the
// configuration keys it takes as flags), examples. Parsing, --help, the bash and zsh completion
// and the man page are all made from these tables, so they cannot disagree.
#include <string>
#include <vector>

namespace projcache::app {

struct option_spec {
  std::string flag;      // as typed, without the dashes: "ttl-minutes"
  std::string arg;       // "N", "DIR", ...; empty for a switch
  std::string help;
  std::string env, def;  // for configuration keys
  bool multi = false;    // repeatable
  bool path = false;     // completes file names
  bool hidden = false;   // benchmarks only: parsed, not shown
};

struct command_spec {
  std::string name, synopsis, summary, description;
  std::vector<option_spec> options;
  std::vector<std::string> positionals;  // names, in order, of values given without a flag
  std::vector<std::string> examples;
};

const std::vector<command_spec>& commands();
const command_spec* find_command(const std::string& name);

// Text renderings (cli_docs.cpp).
std::string usage_text();
std::string help_text(const command_spec& c);
std::string bash_completion();
std::string zsh_completion();
std::string man_page();

}  // namespace projcache::app
