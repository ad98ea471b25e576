#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <random>
#include <thread>

#include "events/bus.hpp"

using namespace projcache::events;

namespace {
event make(event_type t, std::string project = "p") {
  event e;
  e.type = t;
  e.project_id = project;
  return e;
}
}  // namespace

BOOST_AUTO_TEST_CASE(json_shape_is_the_contract) {
  event e = make(event_type::changes_detected, "L2hvbWUvdS9hcHA=");
  e.changes_detected = true;
  e.added = {"a"};
  e.changed = {"c"};
  e.duration_ms = 3.5;
  auto v = boost::json::parse(to_json(e, 42, 1'795'514'400'123'456));
  auto& o = v.as_object();
  BOOST_TEST(o.at("seq").as_int64() == 42);
  BOOST_TEST(o.at("type").as_string() == "changes_detected");
  BOOST_TEST(o.at("timestamp").as_string() == "2026-11-24T10:00:00.123456Z");
  BOOST_TEST(o.at("project_id").as_string() == "L2hvbWUvdS9hcHA=");
  BOOST_TEST(o.at("changes_detected").as_bool());
  BOOST_TEST(o.at("error").is_null());
  auto& d = o.at("details").as_object();
  BOOST_TEST(d.at("added").as_array().size() == 1u);
  BOOST_TEST(d.at("removed").as_array().empty());
  BOOST_TEST(d.at("duration_ms").as_double() == 3.5);
  BOOST_TEST(boost::json::parse(to_json(e, std::nullopt, 0)).as_object().at("seq").is_null());
}

BOOST_AUTO_TEST_CASE(type_names_round_trip) {
  for (auto t : {event_type::refresh_started, event_type::refresh_completed, event_type::refresh_error,
                 event_type::changes_detected, event_type::project_added, event_type::project_removed,
                 event_type::cache_rebuilt, event_type::resync_required})
    BOOST_TEST((parse_event_type(to_string(t)) == t));
  BOOST_TEST(!parse_event_type("nope"));
}

BOOST_AUTO_TEST_CASE(seq_rises_by_one_and_handlers_see_every_event_once) {
  bus b;
  std::vector<std::uint64_t> seen;
  b.subscribe([&](const event_ptr& e) { seen.push_back(e->seq); });
  for (int i = 0; i < 5; ++i) BOOST_TEST(b.publish(make(event_type::refresh_started)) == static_cast<std::uint64_t>(i + 1));
  BOOST_TEST(seen == (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  BOOST_TEST(b.epoch().size() == 16u);
  BOOST_TEST(bus().epoch() != b.epoch());
}

BOOST_AUTO_TEST_CASE(replay_after_since_and_too_old) {
  bus b(4);
  for (int i = 0; i < 6; ++i) b.publish(make(event_type::refresh_completed));
  // kept: 3..6
  auto r = b.events_after(3);
  BOOST_TEST(!r.too_old);
  BOOST_REQUIRE(r.events.size() == 3u);
  BOOST_TEST(r.events.front()->seq == 4u);
  BOOST_TEST(!b.events_after(2).too_old);  // 3 is still kept, so nothing was missed
  BOOST_TEST(b.events_after(1).too_old);
  BOOST_TEST(!b.events_after(1).from_future);
  BOOST_TEST(b.events_after(7).too_old);   // from the future: another run
  BOOST_TEST(b.events_after(7).from_future);
  BOOST_TEST(b.events_after(6).events.empty());
}

BOOST_AUTO_TEST_CASE(the_ring_is_bounded_by_bytes_too) {
  bus b(10000, 20000);
  auto big = make(event_type::changes_detected);
  std::mt19937 rng(7);  // text that does not deflate: the ring keeps it as it is
  std::string pad(6000, ' ');
  for (auto& c : pad) {
    do c = static_cast<char>(std::uniform_int_distribution<int>(33, 126)(rng));
    while (c == '"' || c == '\\');
  }
  big.extra = {{"pad", pad}};
  for (int i = 0; i < 10; ++i) b.publish(big);
  BOOST_TEST(b.ring_bytes() <= 20000u);
  auto kept = b.events_after(7);
  BOOST_TEST(!kept.too_old);
  BOOST_TEST(kept.events.size() == 3u);  // the newest three fit
  BOOST_TEST(b.events_after(6).too_old);  // one that fell out: the client is told to resync
  // Ordinary events: the count bound is the one that holds.
  bus small(100, 1 << 20);
  for (int i = 0; i < 150; ++i) small.publish(make(event_type::refresh_completed));
  BOOST_TEST(small.events_after(50).events.size() == 100u);
}

// A cold scan's events list artifact ids that share their project's id: the ring keeps them
// deflated, and a replay gives back exactly what was sent live.
BOOST_AUTO_TEST_CASE(large_events_are_kept_deflated_and_replay_as_sent) {
  bus b;
  std::vector<std::string> live;
  auto sub = b.subscribe([&](const event_ptr& e) { live.push_back(*e->json); }).first;
  std::size_t live_bytes = 0;
  for (int p = 0; p < 400; ++p) {  // texts of many lengths: every way a deflate stream can end
    std::string project = "L3RtcC9wcm9qY2FjaGUtYmVuY2gvYmlnLTEwMDB4NTAvZGV2L3Aw" + std::to_string(p);
    artifact_diff d;
    for (int i = 0; i < 10 + p % 70; ++i) d.added.push_back(project + ":.claude:skill:skill-" + std::to_string(i));
    b.publish(refresh_started(project));
    b.publish(changes_detected(project, d, 3.5));
  }
  b.unsubscribe(sub);
  for (auto& j : live) live_bytes += j.size();
  BOOST_TEST(b.ring_bytes() < live_bytes / 3);
  auto r = b.events_after(0);
  BOOST_REQUIRE(r.events.size() == live.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < live.size(); ++i) differ += *r.events[i]->text() == live[i] ? 0 : 1;
  BOOST_TEST(differ == 0u);
  BOOST_TEST(!r.events[0]->packed.has_value());  // a small one stays as it is
  BOOST_TEST(r.events[1]->packed.has_value());
}

BOOST_AUTO_TEST_CASE(subscribe_with_since_has_no_gap_and_no_duplicate) {
  bus b;
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    while (!stop) b.publish(make(event_type::refresh_started));
  });
  while (b.current_seq() < 100) std::this_thread::yield();
  std::vector<std::uint64_t> got;
  std::mutex mu;
  auto [id, replay] = b.subscribe(
      [&](const event_ptr& e) {
        std::lock_guard lk(mu);
        got.push_back(e->seq);
      },
      50);
  while (b.current_seq() < replay.current_seq + 100) std::this_thread::yield();
  stop = true;
  publisher.join();
  b.unsubscribe(id);
  std::vector<std::uint64_t> all;
  for (auto& e : replay.events) all.push_back(e->seq);
  std::lock_guard lk(mu);
  all.insert(all.end(), got.begin(), got.end());
  BOOST_REQUIRE(!all.empty());
  BOOST_TEST(all.front() == 51u);
  for (std::size_t i = 1; i < all.size(); ++i) BOOST_TEST_REQUIRE(all[i] == all[i - 1] + 1);
}

BOOST_AUTO_TEST_CASE(unsubscribed_handlers_get_nothing) {
  bus b;
  int n = 0;
  auto [id, _] = b.subscribe([&](const event_ptr&) { ++n; });
  b.publish(make(event_type::refresh_started));
  b.unsubscribe(id);
  b.publish(make(event_type::refresh_started));
  BOOST_TEST(n == 1);
  BOOST_TEST(b.subscriber_count() == 0u);
}
