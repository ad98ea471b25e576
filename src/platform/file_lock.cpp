#include "platform/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

namespace projcache::platform {

file_lock lock_file(const std::string& path) {
  file_lock l;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    l.error = errno;
    l.failed_to_open = true;
    return l;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    l.result = file_lock::outcome::held;
    l.fd = fd;
    return l;
  }
  int err = errno;
  ::close(fd);
  if (err == EWOULDBLOCK) {
    l.result = file_lock::outcome::busy;
  } else {
    l.error = err;
  }
  return l;
}

void release(file_lock& l) {
  if (l.fd >= 0) ::close(l.fd);
  l.fd = -1;
  l.result = file_lock::outcome::failed;
}

void rewrite(const file_lock& l, std::string_view text) {
  if (l.fd < 0) return;
  if (::ftruncate(l.fd, 0) == 0) (void)!::pwrite(l.fd, text.data(), text.size(), 0);
}

}  // namespace projcache::platform
