#pragma once
// Expected store failures come back as error codes (boost::system::result); unexpected ones
// throw db_error with the SQLite code and the statement that failed.
#include <stdexcept>
#include <string>
#include <system_error>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace projcache::db {

enum class errc { not_found = 1, constraint, busy };

const boost::system::error_category& db_category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), db_category()};
}

template <class T>
using result = boost::system::result<T>;

class db_error : public std::runtime_error {
 public:
  db_error(int sqlite_code, const std::string& what) : std::runtime_error(what), code_(sqlite_code) {}
  int sqlite_code() const noexcept { return code_; }

 private:
  int code_;
};

// What a failed statement means for a user, without SQLite's words: "the disk is full", ...
inline std::string describe_failure(int sqlite_code) {
  switch (sqlite_code & 0xff) {  // the primary code of an extended one
    case 13: return "the disk is full";                                   // SQLITE_FULL
    case 8: return "the database file is read-only";                      // SQLITE_READONLY
    case 10: return "the disk reported an I/O error";                     // SQLITE_IOERR
    case 14: return "the database file cannot be opened";                 // SQLITE_CANTOPEN
    case 5: case 6: return "another process holds the database locked";   // SQLITE_BUSY, LOCKED
    case 11: case 26: return "the database file is damaged";              // SQLITE_CORRUPT, NOTADB
    default: return "the database refused a write";
  }
}

}  // namespace projcache::db

template <>
struct boost::system::is_error_code_enum<projcache::db::errc> : std::true_type {};
