#include "app/cli.hpp"

#include <boost/program_options.hpp>
#include <iostream>

#include "app/cli_spec.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"

namespace po = boost::program_options;

namespace projcache::app {

namespace {
// The command's options for the parser; their text comes from help_text(), not from here.
po::options_description parser_options(const command_spec& c) {
  po::options_description o;
  for (auto& s : c.options) {
    if (s.arg.empty())
      o.add_options()(s.flag.c_str(), "");
    else if (s.multi)
      o.add_options()(s.flag.c_str(), po::value<std::vector<std::string>>()->composing(), "");
    else
      o.add_options()(s.flag.c_str(), po::value<std::string>(), "");
  }
  o.add_options()("help,h", "");
  return o;
}

// The configuration keys given as flags ("ttl-minutes" -> ttl_minutes), for load_config.
flag_values to_flags(const command_spec& c, const po::variables_map& vm) {
  flag_values f;
  for (auto& s : c.options) {
    if (s.env.empty() || !vm.count(s.flag)) continue;
    std::string key = s.flag;
    for (auto& ch : key)
      if (ch == '-') ch = '_';
    if (auto* v = boost::any_cast<std::string>(&vm[s.flag].value()))
      f[key] = {*v};
    else if (auto* l = boost::any_cast<std::vector<std::string>>(&vm[s.flag].value()))
      f[key] = *l;
  }
  return f;
}

std::optional<std::string> text_of(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return std::nullopt;
  return vm[name].as<std::string>();
}

// The commands that need no configuration.
std::optional<int> run_plain(const std::string& name, const po::variables_map& vm) {
  if (name == "version") {
    std::cout << "projcache " << PROJCACHE_VERSION << "\n";
    return 0;
  }
  if (name == "man") {
    std::cout << man_page();
    return 0;
  }
  if (name == "completion") {
    auto shell = text_of(vm, "shell").value_or("");
    if (shell != "bash" && shell != "zsh") {
      std::cerr << "projcache completion: say which shell: 'projcache completion bash' or 'projcache completion zsh'\n";
      return 2;
    }
    std::cout << (shell == "bash" ? bash_completion() : zsh_completion());
    return 0;
  }
  if (name == "demo") return cmd_demo(text_of(vm, "dir"));
  return std::nullopt;
}

int dispatch(const std::string& name, const config& cfg, const po::variables_map& vm) {
  bool offline = vm.count("offline") > 0;
  if (name == "serve") return cmd_serve(cfg, command_args{&vm});
  if (name == "status")
    return cmd_status(cfg, vm.count("json")   ? status_format::json
                           : vm.count("text") ? status_format::text
                                              : status_format::automatic);
  if (name == "refresh") return cmd_refresh(cfg, text_of(vm, "project"), vm.count("force") > 0, offline);
  if (name == "clear") return cmd_clear(cfg, vm.count("yes") > 0, offline);
  if (name == "check") return cmd_check(cfg, vm.count("full") > 0);
  if (name == "vacuum") return cmd_vacuum(cfg, offline);
  int steps = 1;
  if (auto s = text_of(vm, "steps")) {
    try {
      std::size_t used = 0;
      steps = std::stoi(*s, &used);
      if (used != s->size() || steps < 0) throw std::invalid_argument(*s);
    } catch (const std::exception&) {
      std::cerr << "projcache migrate: invalid value '" << *s << "' for N: expected a number of migrations\n";
      return 2;
    }
  }
  return cmd_migrate(cfg, text_of(vm, "action").value_or("status"), steps);
}
}  // namespace

int run_cli(int argc, char** argv) {
  std::string name = argc >= 2 ? argv[1] : "";
  if (name.empty() || name == "--help" || name == "-h" || name == "help") {
    std::cout << usage_text();
    return name.empty() ? 2 : 0;
  }
  if (name == "--version") name = "version";
  const command_spec* c = find_command(name);
  if (!c) {
    std::cerr << "projcache: unknown command '" << name << "'\n\n" << usage_text();
    return 2;
  }
  po::positional_options_description pos;
  for (auto& p : c->positionals) pos.add(p.c_str(), 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc - 1, argv + 1).options(parser_options(*c)).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "projcache " << name << ": " << e.what() << " (see 'projcache " << name << " --help')\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << help_text(*c);
    return 0;
  }
  if (auto rc = run_plain(name, vm)) return *rc;
  config cfg;
  try {
    cfg = load_config(to_flags(*c, vm));
  } catch (const config_error& e) {
    std::cerr << "projcache: " << e.what() << "\n";
    return 2;
  }
  return dispatch(name, cfg, vm);
}

}  // namespace projcache::app
