#pragma once
// BEGIN IMMEDIATE with a bounded retry while another writer holds the lock; rolls back unless
// commit() was called.
#include "db/connection.hpp"

namespace projcache::db {

class transaction {
 public:
  explicit transaction(connection& c);
  ~transaction();
  transaction(const transaction&) = delete;
  void commit();

 private:
  connection& c_;
  bool done_ = false;
};

}  // namespace projcache::db
