#include "db/transaction.hpp"

#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "db/error.hpp"

namespace projcache::db {

transaction::transaction(connection& c) : c_(c) {
  // The busy timeout already waits inside SQLite; a few more tries cover a writer that holds
  // the lock for longer than that (a long checkpoint, another process).
  constexpr int attempts = 4;
  for (int i = 1;; ++i) {
    try {
      c_.exec("BEGIN IMMEDIATE");
      return;
    } catch (const db_error& e) {
      int primary = e.sqlite_code() & 0xff;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || i == attempts) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * i));
    }
  }
}

transaction::~transaction() {
  if (!done_) {
    try {
      c_.exec("ROLLBACK");
    } catch (...) {  // nothing to do: the transaction is gone either way
    }
  }
}

void transaction::commit() {
  c_.exec("COMMIT");
  done_ = true;
}

}  // namespace projcache::db
