#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "cache/content_hash.hpp"
#include "support/world.hpp"

using namespace projcache::cache;
using namespace projcache::test;

BOOST_AUTO_TEST_SUITE(content_hash)

BOOST_AUTO_TEST_CASE(single_empty_and_binary_files) {
  temp_dir d;
  content_hasher h(nullptr, nullptr);
  write_file(d / "f.md", "hello\n");
  write_file(d / "empty", "");
  std::string bin;
  for (int i = 0; i < 70000; ++i) bin += static_cast<char>(i * 7);
  write_file(d / "bin", bin);
  BOOST_TEST(h.hash(d / "f.md").value() == sha256_hex("hello\n"));
  BOOST_TEST(h.hash(d / "empty").value() == sha256_hex(""));
  BOOST_TEST(h.hash(d / "bin").value() == sha256_hex(bin));
  BOOST_TEST(!h.hash(d / "absent"));
}

BOOST_AUTO_TEST_CASE(folder_order_is_by_components_with_dotfiles_and_unicode) {
  temp_dir d;
  auto f = d / "art";
  write_file(f / "a-b/x.md", "2");
  write_file(f / "a/b.md", "1");
  write_file(f / ".hidden", "h");
  write_file(f / "Z.md", "z");
  write_file(f / "\xc3\xa9t\xc3\xa9.md", "u");
  write_file(f / "empty", "");
  // Raw string order would put "a-b/x.md" first; component order puts "a/b.md" first.
  std::string stream = std::string(".hidden") + "h" + "Z.md" + "z" + "a/b.md" + "1" + "a-b/x.md" + "2" + "empty" + "" +
                       "\xc3\xa9t\xc3\xa9.md" + "u";
  content_hasher h(nullptr, nullptr);
  BOOST_TEST(h.hash(f).value() == sha256_hex(stream));
}

BOOST_AUTO_TEST_CASE(symlinks_files_followed_folders_not_entered) {
  temp_dir d;
  write_file(d / "target.md", "T");
  write_file(d / "other/inner.md", "I");
  write_file(d / "art/real.md", "R");
  fs::create_symlink(d / "target.md", d / "art/link.md");
  fs::create_directory_symlink(d / "other", d / "art/dirlink");
  content_hasher h(nullptr, nullptr);
  BOOST_TEST(h.hash(d / "art").value() == sha256_hex(std::string("link.md") + "T" + "real.md" + "R"));
}

BOOST_AUTO_TEST_CASE(empty_folder_hashes_the_empty_stream) {
  temp_dir d;
  fs::create_directories(d / "empty");
  BOOST_TEST(content_hasher(nullptr, nullptr).hash(d / "empty").value() == sha256_hex(""));
}

BOOST_AUTO_TEST_CASE(incremental_rehash_only_what_changed) {
  temp_dir d;
  for (int i = 0; i < 5; ++i) write_file(d / ("art/f" + std::to_string(i)), std::string(1000, 'a' + i));
  write_file(d / "single.md", "one");
  age_tree(d / "art");
  age_tree(d / "single.md");
  fingerprint_cache fps;
  hash_stats stats;
  content_hasher h(&fps, &stats);
  auto first = h.hash(d / "art").value();
  auto single = h.hash(d / "single.md").value();
  BOOST_TEST(stats.files_opened.load() == 6u);
  BOOST_TEST(fps.take_dirty().size() == 2u);

  // Unchanged: no file is opened.
  BOOST_TEST(h.hash(d / "art").value() == first);
  BOOST_TEST(h.hash(d / "single.md").value() == single);
  BOOST_TEST(stats.files_opened.load() == 6u);
  BOOST_TEST(stats.reused.load() == 2u);

  // Touched (same bytes): read again, same hash.
  age_tree(d / "art/f1", 5);
  BOOST_TEST(h.hash(d / "art").value() == first);
  BOOST_TEST(stats.files_opened.load() == 11u);

  // Changed: a new hash.
  write_file(d / "art/f2", "different");
  age_tree(d / "art/f2", 3);
  BOOST_TEST(h.hash(d / "art").value() != first);
}

BOOST_AUTO_TEST_CASE(a_just_written_tree_is_not_fingerprinted) {
  temp_dir d;
  write_file(d / "fresh.md", "x");  // mtime is now: a same-size rewrite could keep it
  fingerprint_cache fps;
  content_hasher h(&fps, nullptr);
  h.hash(d / "fresh.md");
  BOOST_TEST(fps.size() == 0u);
}

BOOST_AUTO_TEST_CASE(fifos_sockets_and_devices_are_never_opened) {
  temp_dir d;
  // A FIFO with no writer: a plain open() of it would wait forever, and so would this test.
  BOOST_REQUIRE(::mkfifo((d / "pipe.md").c_str(), 0644) == 0);
  content_hasher h(nullptr, nullptr);
  BOOST_CHECK_EXCEPTION(h.hash(d / "pipe.md"), unreadable_input, [](const unreadable_input& e) {
    return std::string(e.what()).find("pipe.md is a FIFO, not a file or folder") != std::string::npos;
  });
  BOOST_CHECK_THROW(h.hash("/dev/null"), unreadable_input);
  // Inside a folder only regular files count (contract 1.6): the FIFO is passed over.
  write_file(d / "skill/SKILL.md", "s");
  BOOST_REQUIRE(::mkfifo((d / "skill/pipe").c_str(), 0644) == 0);
  BOOST_TEST(h.hash(d / "skill").value() == sha256_hex("SKILL.md" + std::string("s")));
}

BOOST_AUTO_TEST_CASE(a_cancelled_hash_stops_before_its_next_read) {
  temp_dir d;
  write_file(d / "f.md", std::string(1 << 20, 'x'));
  content_hasher h(nullptr, nullptr);
  std::atomic<bool> attempt{false}, all{false};
  BOOST_TEST(h.hash(d / "f.md", {&attempt, &all}).value() == sha256_hex(std::string(1 << 20, 'x')));
  attempt = true;
  BOOST_CHECK_THROW(h.hash(d / "f.md", {&attempt, &all}), scan_cancelled);
  attempt = false;
  all = true;
  BOOST_CHECK_THROW(h.hash(d / "f.md", {&attempt, &all}), scan_cancelled);
}

BOOST_AUTO_TEST_SUITE_END()
