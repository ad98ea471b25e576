// The platform seam: both directory listings agree, the instance lock excludes a second holder.
#include <fcntl.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "platform/dir_listing.hpp"
#include "platform/file_lock.hpp"
#include "platform/platform.hpp"
#include "platform/watch_backend.hpp"
#include "support/world.hpp"

using namespace projcache;
using namespace projcache::test;
using platform::entry_type;

namespace {
std::vector<platform::dir_entry> list_with(int (*impl)(int, std::vector<platform::dir_entry>&), const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  BOOST_REQUIRE(fd >= 0);
  std::vector<platform::dir_entry> out;
  int err = impl(fd, out);
  ::close(fd);
  BOOST_REQUIRE_EQUAL(err, 0);
  return out;
}

std::string describe(const std::vector<platform::dir_entry>& v) {
  std::string s;
  for (auto& e : v) s += e.name + ":" + std::to_string(static_cast<int>(e.type)) + " ";
  return s;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(platform_seam)

BOOST_AUTO_TEST_CASE(listing_is_sorted_by_bytes_without_dot_entries_and_typed) {
  temp_dir d;
  write_file(d / "b.md", "b");
  write_file(d / "B.md", "B");  // byte order: upper case first
  write_file(d / "a/x", "x");
  write_file(d / "\xc3\xa9t\xc3\xa9", "utf-8 name");
  fs::create_symlink("b.md", d / "link");
  auto v = list_with(platform::detail::list_with_readdir, d.path());
  BOOST_TEST(describe(v) == "B.md:1 a:2 b.md:1 link:3 \xc3\xa9t\xc3\xa9:1 ");
  BOOST_TEST(describe(v) == describe(list_with(platform::list_directory, d.path())));
}

#if defined(PROJCACHE_HAVE_GETDENTS)
BOOST_AUTO_TEST_CASE(getdents_and_readdir_list_the_same_large_folder) {
  // More names than one 64 KiB getdents buffer holds: both read to the end, in the same order.
  temp_dir d;
  for (int i = 0; i < 3000; ++i) write_file(d / ("entry-with-a-long-name-" + std::to_string(i * 7919 % 3000)), "");
  auto a = list_with(platform::detail::list_with_readdir, d.path());
  auto b = list_with(platform::detail::list_with_getdents, d.path());
  BOOST_TEST(a.size() == 3000u);
  BOOST_TEST(describe(a) == describe(b));
}
#endif

BOOST_AUTO_TEST_CASE(the_watch_backends_are_those_of_the_linked_side) {
  auto b = platform::watch_backends();
  if (platform::name() == "linux") {
    BOOST_TEST((b == std::vector<std::string_view>{"inotify", "poll"}));
  } else {
    BOOST_TEST(platform::name() == "portable");
    BOOST_TEST((b == std::vector<std::string_view>{"poll"}));
  }
}

BOOST_AUTO_TEST_CASE(a_listing_of_a_removed_folder_fails_with_its_errno) {
  temp_dir d;
  fs::create_directories(d / "gone");
  int fd = ::open((d / "gone").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  BOOST_REQUIRE(fd >= 0);
  fs::remove(d / "gone");
  std::vector<platform::dir_entry> out{{"stale", entry_type::file}};
  int err = platform::list_directory(fd, out);
  ::close(fd);
  // Linux lists a deleted folder as empty; others may report ENOENT. Never stale entries.
  BOOST_TEST((err == 0 || err == ENOENT));
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(the_instance_lock_is_exclusive_and_released_on_close) {
  temp_dir d;
  auto first = platform::lock_file((d / "db.lock").string());
  BOOST_REQUIRE(first.result == platform::file_lock::outcome::held);
  platform::rewrite(first, "{\"pid\":1}\n");
  auto second = platform::lock_file((d / "db.lock").string());  // another open file description
  BOOST_TEST((second.result == platform::file_lock::outcome::busy));
  BOOST_TEST(read_file(d / "db.lock") == "{\"pid\":1}\n");
  platform::release(first);
  auto third = platform::lock_file((d / "db.lock").string());
  BOOST_TEST((third.result == platform::file_lock::outcome::held));
  platform::release(third);
  auto nowhere = platform::lock_file((d / "no/such/folder/db.lock").string());
  BOOST_TEST((nowhere.result == platform::file_lock::outcome::failed));
  BOOST_TEST(nowhere.failed_to_open);
  BOOST_TEST(nowhere.error == ENOENT);
}

BOOST_AUTO_TEST_SUITE_END()
