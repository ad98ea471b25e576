#pragma once
// A real small disk for full-disk tests: a tmpfs of a given size (mounting needs root, as the
// suite runs in CI), and a way to fill it.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace projcache::test {

struct small_disk {
  std::filesystem::path dir;
  small_disk(std::filesystem::path d, const char* size) : dir(std::move(d)) {
    std::filesystem::create_directories(dir);
    std::string opts = std::string("size=") + size;
    BOOST_REQUIRE_MESSAGE(::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0,
                          "mounting a tmpfs needs root: " << std::strerror(errno));
  }
  ~small_disk() { ::umount2(dir.c_str(), MNT_DETACH); }
  small_disk(const small_disk&) = delete;
  // Writes a file until the disk says it is full.
  void fill(const std::filesystem::path& filler) const {
    int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    BOOST_REQUIRE(fd >= 0);
    std::string chunk(16 * 1024, 'x');
    int err = 0;
    for (;;) {
      auto n = ::write(fd, chunk.data(), chunk.size());
      if (n < 0) {
        err = errno;
        break;
      }
    }
    ::close(fd);
    BOOST_REQUIRE_MESSAGE(err == ENOSPC, "filling stopped with " << std::strerror(err));
  }
};

}  // namespace projcache::test
