#pragma once
// projcache serve|migrate|status|refresh|clear|check|vacuum|demo|version|--help
namespace projcache::app {

int run_cli(int argc, char** argv);

}  // namespace projcache::app
