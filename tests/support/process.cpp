#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace projcache::test {

// PROJCACHE_BINARY in the environment picks another build of the same sources (the portable one).
std::string projcache_binary() {
  const char* env = std::getenv("PROJCACHE_BINARY");
  return env && *env ? env : PROJCACHE_BINARY;
}

namespace {
pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, int out_fd, int err_fd,
            int in_fd = -1) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::dup2(in_fd >= 0 ? in_fd : ::open("/dev/null", O_RDONLY), 0);
    for (auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    std::string bin = projcache_binary();
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

std::string temp_log() {
  char tmpl[] = "/tmp/projcache-stderr-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ::close(fd);
  return tmpl;
}
}  // namespace

server_process::server_process(std::vector<std::string> args, std::map<std::string, std::string> env,
                               std::chrono::seconds timeout) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  stderr_path_ = temp_log();
  int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_CLOEXEC);
  std::vector<std::string> full{"serve", "--port", "0", "--exit-with-parent", "true"};
  full.insert(full.end(), args.begin(), args.end());
  env.emplace("SKILLMEAT_CACHE_LOG_LEVEL", "info");
  pid_ = spawn(full, env, pipefd[1], err_fd);
  ::close(pipefd[1]);
  ::close(err_fd);
  // The ready line, read up to its newline under the deadline.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string line;
  char ch;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{pipefd[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    if (::read(pipefd[0], &ch, 1) != 1) break;
    line += ch;
  }
  ::close(pipefd[0]);
  auto pos = line.find("\"port\":");
  if (pos == std::string::npos) {
    stop(SIGKILL);
    throw std::runtime_error("server did not report ready: '" + line + "' stderr: " + stderr_text());
  }
  ready_ = line.substr(0, line.find('\n'));
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(pos + 7)));
}

namespace {
std::function<void(const std::string&)>& unclean_exit_reporter() {
  static std::function<void(const std::string&)> r;
  return r;
}
}  // namespace

void set_unclean_exit_reporter(std::function<void(const std::string&)> report) {
  unclean_exit_reporter() = std::move(report);
}

std::optional<std::string> exit_problem(int exit_code, bool stopped_here, const std::string& err) {
  bool sanitizer = false;
  for (auto* mark : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "SUMMARY: AddressSanitizer",
                     "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: LeakSanitizer"})
    sanitizer = sanitizer || err.find(mark) != std::string::npos;
  if (!sanitizer && (!stopped_here || exit_code == 0)) return std::nullopt;
  return "projcache " + std::string(sanitizer ? "printed a sanitizer report" : "did not exit cleanly") +
         (stopped_here ? " (exit " + std::to_string(exit_code) + " on SIGTERM)" : std::string(" (stopped by the test)")) +
         "; its stderr:\n" + err;
}

// SIGTERM, as a user's supervisor would stop it: a clean exit is part of every test.
server_process::~server_process() {
  bool stopped_here = pid_ > 0;
  int code = stopped_here ? stop(SIGTERM, std::chrono::milliseconds(15000)) : 0;
  if (!expect_unclean_) {
    if (auto problem = exit_problem(code, stopped_here, stderr_text())) {
      if (unclean_exit_reporter()) unclean_exit_reporter()(*problem);
      else std::fprintf(stderr, "%s\n", problem->c_str());
    }
  }
  std::error_code ec;
  std::filesystem::remove(stderr_path_, ec);
}

bool server_process::running() {
  if (pid_ <= 0) return false;
  int status;
  return ::waitpid(pid_, &status, WNOHANG) == 0;
}

int server_process::stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a child's exit
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string server_process::stderr_text() const {
  std::ifstream in(stderr_path_);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

run_result run_projcache(std::vector<std::string> args, std::map<std::string, std::string> env,
                         std::optional<std::string> input) {
  std::string out_path = temp_log(), err_path = temp_log(), in_path;
  int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CLOEXEC), err_fd = ::open(err_path.c_str(), O_WRONLY | O_CLOEXEC);
  int in_fd = -1;
  if (input) {
    in_path = temp_log();
    std::ofstream(in_path) << *input;
    in_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  pid_t pid = spawn(args, env, out_fd, err_fd, in_fd);
  ::close(out_fd);
  ::close(err_fd);
  if (in_fd >= 0) {
    ::close(in_fd);
    std::filesystem::remove(in_path);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(p);
    return s;
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(out_path), slurp(err_path)};
}

}  // namespace projcache::test
