#pragma once
// cache::service: the one door into the cache. It owns the parts (the read model, the scan
// caches, the database, the store, upkeep, the refresh job, the watcher and the marketplace
// fetcher), the write strand and the scan pool they run on, and wires them in one place. net/ and app/ see this class and the plain
// values it answers with (queries.hpp, snapshot.hpp, refresh_types.hpp, settings.hpp), so a
// change inside the cache never reaches a handler. serve, the CLI one-shots, the benchmarks and
// the tests all build it the same way.
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache/http_get.hpp"
#include "cache/queries.hpp"
#include "cache/refresh_types.hpp"
#include "cache/settings.hpp"
#include "db/types.hpp"

namespace boost::asio {
class io_context;
}
namespace projcache::events {
class bus;
}

namespace projcache::cache {

struct executors;
class read_model;
struct scan_caches;
class database;
class store;
class upkeep;
class refresh_job;
class watcher;
class marketplace_fetcher;

// What /cache/status and /metrics report about the parts, read in one call.
struct service_figures {
  status_view status;
  refresh_schedule schedule;
  refresh_counters counters;
  watcher_state watcher;
  std::uint64_t watcher_events = 0, wal_checkpoints_busy = 0;
  // Only with figures(true): the database and WAL files' sizes, read from the disk now.
  std::int64_t db_bytes = 0, wal_bytes = 0;
};

// What start() sets going; a one-shot command starts nothing and asks for one refresh.
struct start_options {
  bool watch = true, marketplace = true, housekeeping = true;
  // After open(beside_serving): the check found the file damaged and no fresh one could be
  // made (a full disk, ...). Nothing is started and no write runs; this says why, to stop.
  std::function<void(const std::string&)> on_fatal;
};

// When open() learns whether the file's pages are sound (PRAGMA quick_check, about 150 ms of
// CPU at 50,000 artifacts).
enum class integrity_check {
  before_reads,    // open() waits for it: a one-shot reads and writes right after
  beside_serving,  // serve: reads start at once from what was loaded; start() takes the finding
};

class service {
 public:
  template <class T>
  using done_fn = std::function<void(T)>;

  // `get` is how the marketplace reaches the network (app/ passes net's client); without it the
  // marketplace is never fetched.
  service(boost::asio::io_context& ioc, settings s, events::bus& bus, http_get_fn get = {});
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  // Opens the store (a file that is not a database is moved aside and rebuilt) and loads the
  // read model. Throws when the database cannot be opened at all. With beside_serving the
  // integrity check runs on after it: until start() has its finding, the loaded rows are
  // served and every write waits; a file found damaged then is moved aside and rebuilt, and the
  // reads see an empty cache (a new generation) until the first refresh fills it again.
  void open(integrity_check when = integrity_check::before_reads);
  // The first full refresh, then the background schedule, the watcher, the marketplace and
  // housekeeping, as `o` asks; after open(beside_serving), once the check has ended.
  void start(const start_options& o = {});
  // No new work; running scans are abandoned, waiters still get an answer.
  void stop();
  // Stops, waits for the scans to end and closes the database. With keep_rows (serve's exit),
  // its rows are kept beside it for a fast next start (snapshot_file.hpp). The destructor
  // closes without.
  void close(bool keep_rows);

  // ---- reads: any thread, from the current immutable snapshot
  const settings& config() const;
  snapshot_ptr current() const;
  project_ptr project(const std::string& id) const;
  page<project_ptr> list_projects(const project_query& q) const;
  page<artifact_ptr> list_artifacts(const artifact_query& q) const;
  page<stale_item> stale_artifacts(const stale_query& q) const;
  page<search_item> search(const search_query& q) const;
  db::page_result<db::marketplace_row> marketplace(const std::optional<std::string>& type, std::int64_t skip,
                                                   std::int64_t limit) const;
  // Counts a read (hit or miss); a cached project found stale is refreshed in the background.
  void note_read(const std::optional<std::string>& project_id);
  service_figures figures(bool with_file_sizes = false) const;
  // The first full refresh is done (/readyz).
  bool ready() const;

  // ---- writes: each runs on the write strand; done may run on any thread
  // One project (which must exist) or, with no id, a full refresh; a forced full refresh also
  // fetches the marketplace.
  void async_refresh(std::optional<std::string> project_id, bool force, done_fn<refresh_result> done);
  void async_invalidate(std::optional<std::string> project_id, done_fn<std::int64_t> done);
  void async_register(std::filesystem::path path, done_fn<register_outcome> done);
  void async_forget(std::string project_id, done_fn<forget_outcome> done);
  // Empties the cache; then, with `rescan`, finds and refreshes every project again. done gets
  // nothing when the store could not be emptied.
  void async_clear(bool rescan, done_fn<std::optional<refresh_result>> done);
  // VACUUM and ANALYZE now, whatever housekeeping's schedule says.
  void async_compact(done_fn<compact_outcome> done);

  // The parts behind the door, for the tests and benchmarks that drive one directly.
  struct parts {
    executors& ex;
    read_model& reads;
    scan_caches& caches;
    database& db;
    cache::store& store;
    cache::upkeep& upkeep;
    refresh_job& job;
    cache::watcher& watch;
    marketplace_fetcher& market;
  };
  parts internals();

 private:
  void confirm(std::optional<std::string> unreadable);
  // confirm(), or why it failed in words a user can act on.
  std::optional<std::string> confirm_or_why();
  void cannot_rebuild(const std::string& cause);  // on the write strand
  void start_parts();
  // Runs a write now, or, while the integrity check is still out, queued on the write strand
  // until it is in (bounded by the connections: each waits for its answer).
  void when_writable(std::function<void()> write);

  // In the order they are built: each is given only those above it.
  std::unique_ptr<executors> ex_;
  std::unique_ptr<read_model> reads_;
  std::unique_ptr<scan_caches> caches_;
  std::unique_ptr<database> db_;
  std::unique_ptr<cache::store> store_;
  std::unique_ptr<cache::upkeep> upkeep_;
  std::unique_ptr<refresh_job> job_;
  std::unique_ptr<cache::watcher> watcher_;
  std::unique_ptr<marketplace_fetcher> market_;
  start_options started_{false, false, false, {}};
  std::optional<std::string> unreadable_;  // what open()'s load found, for the late confirm
  // Set once the check's finding is in; deferred_ is the write strand's.
  std::atomic<bool> writable_{false};
  bool closed_ = false;
  std::vector<std::function<void()>> deferred_;
  // start_parts() and stop() may race (a SIGTERM while the check runs): one at a time.
  std::mutex run_mu_;
  bool stopped_ = false;
};

}  // namespace projcache::cache
