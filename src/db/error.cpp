#include "db/error.hpp"

namespace projcache::db {

namespace {
class db_category_impl : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "projcache.db"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::not_found: return "not found";
      case errc::constraint: return "constraint violation";
      case errc::busy: return "database busy";
    }
    return "unknown";
  }
};
}  // namespace

const boost::system::error_category& db_category() noexcept {
  static const db_category_impl cat;
  return cat;
}

}  // namespace projcache::db
