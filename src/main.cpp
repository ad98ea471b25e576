// projcache: the persistent project cache of SkillMeat. Everything lives in the libraries.
#include "app/cli.hpp"

int main(int argc, char** argv) { return projcache::app::run_cli(argc, argv); }
