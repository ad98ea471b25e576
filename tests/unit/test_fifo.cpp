// fifo: the subscribers' queues, which hold nothing while empty.
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/fifo.hpp"

using projcache::fifo;

BOOST_AUTO_TEST_SUITE(fifos)

BOOST_AUTO_TEST_CASE(gives_back_in_the_order_taken_across_cuts) {
  fifo<int> q;
  int next_in = 0, next_out = 0;
  // Pushes and pops interleaved so the taken part is cut off many times while items remain.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 7; ++i) q.push_back(next_in++);
    for (int i = 0; i < 5; ++i) {
      BOOST_TEST(q.front() == next_out);
      ++next_out;
      q.pop_front();
    }
    BOOST_TEST(q.size() == static_cast<std::size_t>(next_in - next_out));
  }
  while (!q.empty()) {
    BOOST_TEST(q.front() == next_out++);
    q.pop_front();
  }
  BOOST_TEST(next_out == next_in);
}

BOOST_AUTO_TEST_CASE(holds_no_memory_once_empty) {
  fifo<std::string> q;
  BOOST_TEST(q.capacity() == 0u);
  for (int i = 0; i < 1000; ++i) q.push_back(std::string(100, 'x'));
  BOOST_TEST(q.capacity() >= 1000u);
  while (!q.empty()) q.pop_front();
  BOOST_TEST(q.capacity() == 0u);
  q.push_back("a");
  q.clear();
  BOOST_TEST(q.empty());
  BOOST_TEST(q.capacity() == 0u);
}

BOOST_AUTO_TEST_CASE(a_popped_item_is_released_at_once) {
  fifo<std::shared_ptr<int>> q;
  auto first = std::make_shared<int>(1);
  std::weak_ptr<int> watch = first;
  q.push_back(std::move(first));
  q.push_back(std::make_shared<int>(2));
  q.pop_front();
  BOOST_TEST(watch.expired());  // not held until the taken part is cut off
  BOOST_TEST(*q.front() == 2);
}

BOOST_AUTO_TEST_CASE(assign_replaces_what_was_queued) {
  fifo<int> q;
  q.push_back(9);
  std::vector<int> v{1, 2, 3};
  q.assign(v.begin(), v.end());
  BOOST_TEST(q.size() == 3u);
  BOOST_TEST(q.front() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
