// Projects registered at run time (POST/DELETE /api/v1/cache/projects): SkillMeat knows projects
// outside the search roots. A registration is persisted, so discovery finds the folder after a
// restart as it finds a configured explicit project.
#include <boost/asio/post.hpp>
#include <boost/log/trivial.hpp>

#include "cache/discovery.hpp"
#include "cache/refresh.hpp"
#include "cache/refresh_internal.hpp"
#include "common/paths.hpp"
#include "db/error.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace projcache::cache {

namespace {
// Checked on the scan pool: it reads the folder.
std::optional<std::string> why_not_a_project(const fs::path& resolved) {
  std::error_code ec;
  if (!fs::is_directory(resolved, ec))
    return "No folder at '" + resolved.string() + "': register the folder that holds the project's profile root";
  if (profile_roots_of(resolved).empty())
    return "No SkillMeat deployment in '" + resolved.string() + "': expected a profile root such as '" +
           (resolved / ".claude").string() + "' holding " + deployed_file_name + " (deploy an artifact there first)";
  return std::nullopt;
}
}  // namespace

void refresh_job::register_project(fs::path path, std::function<void(register_outcome)> done) {
  asio::post(pool_, [this, path = std::move(path), done = std::move(done)]() mutable {
    auto resolved = resolve_path(path);
    auto why = why_not_a_project(resolved);
    asio::post(strand_, [this, resolved, why, done = std::move(done)]() mutable {
      register_outcome out;
      out.project_id = project_id_of(resolved);
      if (why) {
        out.what = register_outcome::kind::no_deployment;
        out.detail = *why;
        return done(std::move(out));
      }
      try {
        bool added = store_.register_project(resolved);
        out.what = added ? register_outcome::kind::registered : register_outcome::kind::already_registered;
        add_found(resolved);
      } catch (const db::db_error& e) {
        BOOST_LOG_TRIVIAL(warning) << "cannot register project " << resolved << ": " << e.what();
        out.what = register_outcome::kind::failed;
        out.detail = "The cache database could not record the project; check the disk and try again";
        return done(std::move(out));
      }
      if (on_full_refresh_) on_full_refresh_();  // the watcher picks up its profile roots
      auto id = out.project_id;
      enqueue(id, resolved.string(), std::make_shared<collection_memo>(),
              [out = std::move(out), done = std::move(done)](refresh_result r) mutable {
                out.refresh = std::move(r);
                done(std::move(out));
              });
    });
  });
}

void refresh_job::forget_project(const std::string& id, std::function<void(forget_outcome)> done) {
  asio::post(strand_, [this, id, done = std::move(done)]() mutable {
    auto path = path_of_project_id(id);
    if (!path || !store_.is_registered(*path)) {
      bool configured = false;
      for (auto& p : store_.config().explicit_projects)
        if (path && resolve_path(p) == *path) configured = true;
      return done(configured ? forget_outcome::configured : forget_outcome::not_registered);
    }
    try {
      store_.forget_project(*path);
    } catch (const db::db_error& e) {
      BOOST_LOG_TRIVIAL(warning) << "cannot forget project " << *path << ": " << e.what();
      return done(forget_outcome::failed);
    }
    // Discovery decides whether it stays (it may also lie under a search root).
    rescan([done = std::move(done)] { done(forget_outcome::forgotten); });
  });
}

}  // namespace projcache::cache
