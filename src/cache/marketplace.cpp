#include "cache/marketplace.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <boost/log/trivial.hpp>

#include "cache/read_model.hpp"
#include "cache/store.hpp"
#include "events/bus.hpp"
#include "common/json_text.hpp"

namespace asio = boost::asio;
namespace json = boost::json;

namespace projcache::cache {

namespace {
constexpr micros ttl_us = 24LL * 3600 * 1000000;

std::optional<std::string> text_of(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (it->value().is_string()) return std::string(it->value().as_string());
  return to_json_text(it->value());
}

}  // namespace

std::optional<std::vector<db::marketplace_row>> parse_listings(const std::string& body, micros now,
                                                               std::string& error) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) {
    error = "marketplace response is not JSON: " + ec.message();
    return std::nullopt;
  }
  const json::array* list = doc.if_array();
  if (!list && doc.is_object()) {
    for (auto key : {"listings", "items", "data"})
      if (auto it = doc.as_object().find(key); it != doc.as_object().end() && it->value().is_array()) {
        list = &it->value().as_array();
        break;
      }
  }
  if (!list) {
    error = "marketplace response holds no list of listings";
    return std::nullopt;
  }
  std::vector<db::marketplace_row> rows;
  for (auto& v : *list) {
    if (!v.is_object()) continue;
    const auto& o = v.as_object();
    auto id = text_of(o, "listing_id");
    auto name = text_of(o, "name");
    auto url = text_of(o, "source_url");
    if (!id || !name || !url) continue;  // not a listing: skipped, the others kept
    db::marketplace_row r;
    r.id = *id;
    r.name = *name;
    r.type = "skill";
    r.url = *url;
    r.description = text_of(o, "description");
    r.cached_at = now;
    json::object data;
    for (auto& kv : o)
      if (kv.key() != "listing_id" && kv.key() != "name" && kv.key() != "source_url" && kv.key() != "description")
        data[kv.key()] = kv.value();
    r.data = to_json_text(data);
    rows.push_back(std::move(r));
  }
  return rows;
}

marketplace_fetcher::marketplace_fetcher(asio::io_context& ioc, store& m, const read_model& reads,
                                         strand_type& write_strand, events::bus& bus, http_get_fn get)
    : store_(m), reads_(reads), write_strand_(write_strand), bus_(bus), get_(std::move(get)), timer_(ioc) {}

void marketplace_fetcher::start() {
  if (!store_.config().marketplace_url) return;
  auto age = reads_.marketplace_age();
  if (!age || now_micros() - *age > ttl_us) fetch_now(nullptr);
  schedule();
}

void marketplace_fetcher::stop() {
  stopped_ = true;
  timer_.cancel();
}

void marketplace_fetcher::schedule() {
  timer_.expires_after(std::chrono::hours(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    auto age = reads_.marketplace_age();
    if (!age || now_micros() - *age > ttl_us) fetch_now(nullptr);
    schedule();
  });
}

void marketplace_fetcher::fetch_now(done_fn done) {
  auto url = store_.config().marketplace_url;
  if (!url) {
    if (done) done(std::string("no marketplace_url configured"));
    return;
  }
  if (!get_) {
    if (done) done(std::string("this command does not fetch the marketplace"));
    return;
  }
  get_(*url, [this, done](std::optional<std::string> error, std::string body) {
    asio::post(write_strand_, [this, done, error = std::move(error), body = std::move(body)] {
      save(error, body, done);
    });
  });
}

void marketplace_fetcher::save(const std::optional<std::string>& fetch_error, const std::string& body,
                               const done_fn& done) {
  std::optional<std::string> error;
  if (fetch_error) {
    error = "marketplace fetch failed: " + *fetch_error;
  } else {
    std::string why;
    micros now = now_micros();
    if (auto rows = parse_listings(body, now, why)) {
      try {
        store_.replace_marketplace(*rows, now - ttl_us);
      } catch (const std::exception& e) {
        error = std::string("marketplace store failed: ") + e.what();
      }
    } else {
      error = why;
    }
  }
  if (error) {
    BOOST_LOG_TRIVIAL(warning) << *error << " (old entries kept)";
    bus_.publish(events::source_error("marketplace", *error));
  }
  if (done) done(error);
}

}  // namespace projcache::cache
