#include "app/cli.hpp"

#include <boost/program_options.hpp>
#include <iostream>

#include "app/commands.hpp"
#include "app/config.hpp"

namespace po = boost::program_options;

namespace projcache::app {

namespace {
constexpr const char* usage =
    "usage: projcache <command> [options]\n\n"
    "commands:\n"
    "  serve              run the server (see 'projcache serve --help')\n"
    "  migrate up|down [N]|status   apply, revert or list schema migrations\n"
    "  status [--json]    what the cache holds (read from the database; works beside a server)\n"
    "  refresh [PROJECT] [--force]  refresh everything (or one project id) once; through the running\n"
    "                     server when there is one\n"
    "  clear [--yes]      empty the cache database (through the running server when there is one)\n"
    "  check [--full]     integrity check of the database\n"
    "  vacuum             compact the database (through the running server when there is one)\n"
    "  demo [DIR]         write a demo SkillMeat world (a collection, three projects)\n"
    "  version            print the version\n";

// The options every command shares: where the world and the database are.
po::options_description config_options() {
  po::options_description o("configuration (flags > environment > $SKILLMEAT_HOME/config.toml [cache] > defaults)");
  o.add_options()("home", po::value<std::string>(), "SkillMeat home (SKILLMEAT_HOME, default ~/.skillmeat)");
  for (auto& k : config_keys()) {
    std::string flag = k.key;
    for (auto& ch : flag)
      if (ch == '_') ch = '-';
    std::string help = std::string(k.help) + " [" + k.env + ", default " + k.def + "]";
    bool multi = std::string(k.key) == "search_roots" || std::string(k.key) == "projects" ||
                 std::string(k.key) == "allowed_hosts" || std::string(k.key) == "cors_origins";
    if (multi)
      o.add_options()(flag.c_str(), po::value<std::vector<std::string>>()->composing(), (help + " (repeatable)").c_str());
    else
      o.add_options()(flag.c_str(), po::value<std::string>(), help.c_str());
  }
  o.add_options()("api-key", po::value<std::string>(), "require this X-API-Key (SKILLMEAT_API_KEY_ENABLED + SKILLMEAT_API_KEY)");
  return o;
}

flag_values to_flags(const po::variables_map& vm) {
  flag_values f;
  for (auto& [name, v] : vm) {
    std::string key = name;
    for (auto& ch : key)
      if (ch == '-') ch = '_';
    if (auto* s = boost::any_cast<std::string>(&v.value()))
      f[key] = {*s};
    else if (auto* l = boost::any_cast<std::vector<std::string>>(&v.value()))
      f[key] = *l;
  }
  return f;
}
}  // namespace

int run_cli(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    std::cout << usage;
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  if (command == "version" || command == "--version") {
    std::cout << "projcache " << PROJCACHE_VERSION << "\n";
    return 0;
  }

  po::options_description opts = config_options();
  opts.add_options()("help,h", "show this help");
  po::positional_options_description pos;
  if (command == "serve") {
    opts.add_options()("port-file", po::value<std::string>(), "also write the ready line to this file (atomically)")(
        "exit-with-parent", po::value<std::string>(),
        "exit when the parent process dies: true|false (default: true when stdin is not a terminal)")(
        "demo-if-missing", "serve a generated demo world when the SkillMeat home does not exist")(
        "bench-routes", "enable POST /api/v1/bench/publish (benchmarks only)");
  } else if (command == "migrate") {
    opts.add_options()("action", po::value<std::string>()->default_value("status"), "up|down|status")(
        "steps", po::value<int>()->default_value(1), "how many migrations down reverts");
    pos.add("action", 1).add("steps", 1);
  } else if (command == "refresh") {
    opts.add_options()("project", po::value<std::string>(), "project id")("force", "refresh even when fresh")(
        "offline", "never through a running server: fail when one holds the database");
    pos.add("project", 1);
  } else if (command == "clear") {
    opts.add_options()("yes", "do not ask")("offline", "never through a running server");
  } else if (command == "vacuum") {
    opts.add_options()("offline", "never through a running server");
  } else if (command == "check") {
    opts.add_options()("full", "integrity_check instead of quick_check");
  } else if (command == "demo") {
    opts.add_options()("dir", po::value<std::string>(), "where to write it");
    pos.add("dir", 1);
  } else if (command == "status") {
    opts.add_options()("json", "print JSON (the default when stdout is not a terminal)")(
        "text", "print a readable summary (the default on a terminal)");
  } else {
    std::cerr << "projcache: unknown command '" << command << "'\n" << usage;
    return 2;
  }

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc - 1, argv + 1).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "projcache " << command << ": " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "usage: projcache " << command << " [options]\n\n" << opts << "\n";
    return 0;
  }

  config cfg;
  try {
    auto flags = to_flags(vm);
    for (auto k : {"port_file", "exit_with_parent", "action", "steps", "project", "dir", "help", "demo_if_missing",
                   "force", "yes", "full", "bench_routes", "offline", "json", "text"})
      flags.erase(k);
    cfg = load_config(flags);
  } catch (const config_error& e) {
    std::cerr << "projcache: " << e.what() << "\n";
    return 2;
  }

  command_args a;
  a.vm = &vm;
  if (command == "serve") return cmd_serve(cfg, a);
  if (command == "migrate") return cmd_migrate(cfg, vm["action"].as<std::string>(), vm["steps"].as<int>());
  if (command == "status")
    return cmd_status(cfg, vm.count("json")   ? status_format::json
                           : vm.count("text") ? status_format::text
                                              : status_format::automatic);
  if (command == "refresh")
    return cmd_refresh(cfg, vm.count("project") ? std::optional(vm["project"].as<std::string>()) : std::nullopt,
                       vm.count("force") > 0, vm.count("offline") > 0);
  if (command == "clear") return cmd_clear(cfg, vm.count("yes") > 0, vm.count("offline") > 0);
  if (command == "check") return cmd_check(cfg, vm.count("full") > 0);
  if (command == "vacuum") return cmd_vacuum(cfg, vm.count("offline") > 0);
  return cmd_demo(vm.count("dir") ? std::optional(vm["dir"].as<std::string>()) : std::nullopt);
}

}  // namespace projcache::app
