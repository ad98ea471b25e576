// shared_text: the interned strings the in-memory rows are made of.
#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/shared_text.hpp"

using projcache::shared_text;

BOOST_AUTO_TEST_SUITE(shared_texts)

BOOST_AUTO_TEST_CASE(reads_like_an_optional_string) {
  shared_text none, some = std::string("abc"), from_opt = std::optional<std::string>("abc");
  BOOST_TEST(!none.has_value());
  BOOST_TEST((none == std::nullopt));
  BOOST_TEST(*none == "");  // a null read is empty, never a crash
  BOOST_CHECK_THROW(none.value(), std::bad_optional_access);
  BOOST_TEST(none.value_or("x") == "x");
  BOOST_TEST(!none.optional().has_value());
  BOOST_TEST(some.has_value());
  BOOST_TEST(some == "abc");
  BOOST_TEST(some == std::string("abc"));
  BOOST_TEST((some == std::optional<std::string>("abc")));
  BOOST_TEST(!(some == std::optional<std::string>()));
  BOOST_TEST(some->size() == 3u);
  BOOST_TEST(*some.optional() == "abc");
  BOOST_TEST((some == from_opt));  // the same copy
  some.reset();
  BOOST_TEST(!some.has_value());
}

BOOST_AUTO_TEST_CASE(equal_texts_share_one_copy) {
  auto before = shared_text::pool_size();
  std::vector<shared_text> many;
  for (int i = 0; i < 1000; ++i) many.emplace_back(std::string(64, 'f') + "-shared-by-all");
  BOOST_TEST(shared_text::pool_size() == before + 1);
  BOOST_TEST(&*many.front() == &*many.back());
  shared_text other = std::string(64, 'f') + "-another";
  BOOST_TEST(!(other == many.front()));
}

BOOST_AUTO_TEST_CASE(texts_nobody_holds_are_swept) {
  for (int round = 0; round < 20; ++round) {
    std::vector<shared_text> live;
    for (int i = 0; i < 5000; ++i) live.emplace_back("round " + std::to_string(round) + " text " + std::to_string(i));
  }
  // 100,000 texts were made and dropped; the pool keeps at most about twice what is alive.
  BOOST_TEST(shared_text::pool_size() <= 2 * 5000u + 1024u);
}

// A thread's front cache holds references in advance and gives back what it did not hand out
// when the thread ends: texts still held elsewhere outlive any sweep (ASan would see a freed
// one read), and the rest can go.
BOOST_AUTO_TEST_CASE(a_finished_threads_texts_stay_valid_while_held) {
  std::vector<shared_text> kept, dropped;
  std::thread([&] {
    for (int i = 0; i < 1000; ++i) {
      kept.emplace_back("credit kept " + std::to_string(i % 7));
      dropped.emplace_back("credit dropped " + std::to_string(i % 7));
    }
  }).join();
  dropped.clear();
  for (int i = 0; i < 50000; ++i) shared_text churn("churn " + std::to_string(i));  // sweeps run
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) wrong += kept[i] == "credit kept " + std::to_string(i % 7) ? 0 : 1;
  BOOST_TEST(wrong == 0u);
  BOOST_TEST(&*kept[0] == &*shared_text("credit kept 0"));  // still the pool's one copy
}

BOOST_AUTO_TEST_CASE(threads_intern_copy_and_drop_together) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &ok] {
      for (int i = 0; i < 20000; ++i) {
        shared_text a = "common " + std::to_string(i % 50);
        shared_text b = a;
        shared_text c = "thread " + std::to_string(t) + " " + std::to_string(i);
        if (b == a && *c == "thread " + std::to_string(t) + " " + std::to_string(i)) ++ok[t];
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) BOOST_TEST(ok[t] == 20000);
}

BOOST_AUTO_TEST_SUITE_END()
