#pragma once
// An immutable, interned string held by value in 8 bytes, with std::optional<std::string>'s
// reading interface (null is "no value"). Equal texts share one copy: a cached artifact's
// content hashes, source, collection and metadata repeat across a thousand projects, and the
// read model holds every artifact in memory.
#include <atomic>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace projcache {

class shared_text {
 public:
  shared_text() noexcept = default;
  shared_text(std::nullopt_t) noexcept {}
  shared_text(std::string_view s) : rep_(intern(s)) {}
  shared_text(const std::string& s) : shared_text(std::string_view(s)) {}
  shared_text(const char* s) : shared_text(std::string_view(s)) {}
  shared_text(const std::optional<std::string>& s) : rep_(s ? intern(*s) : nullptr) {}
  shared_text(const shared_text& o) noexcept : rep_(o.rep_) { retain(rep_); }
  shared_text(shared_text&& o) noexcept : rep_(std::exchange(o.rep_, nullptr)) {}
  shared_text& operator=(shared_text o) noexcept {
    std::swap(rep_, o.rep_);
    return *this;
  }
  ~shared_text() { release(rep_); }

  bool has_value() const noexcept { return rep_ != nullptr; }
  explicit operator bool() const noexcept { return rep_ != nullptr; }
  // Reading a null text gives "": fields that always hold a value use it without a check.
  const std::string& operator*() const noexcept { return rep_ ? rep_->text : empty_text(); }
  const std::string* operator->() const noexcept { return &**this; }
  const std::string& value() const {
    if (!rep_) throw std::bad_optional_access();
    return rep_->text;
  }
  std::string value_or(std::string_view fallback) const { return rep_ ? rep_->text : std::string(fallback); }
  std::optional<std::string> optional() const {
    return rep_ ? std::optional<std::string>(rep_->text) : std::nullopt;
  }
  void reset() noexcept { shared_text().swap(*this); }
  void swap(shared_text& o) noexcept { std::swap(rep_, o.rep_); }

  // Interned: equal texts are the same copy.
  friend bool operator==(const shared_text& a, const shared_text& b) noexcept { return a.rep_ == b.rep_; }
  friend bool operator==(const shared_text& a, std::nullopt_t) noexcept { return !a.rep_; }
  friend bool operator==(const shared_text& a, const std::optional<std::string>& b) {
    return a.rep_ ? b && a.rep_->text == *b : !b;
  }
  friend bool operator==(const shared_text& a, std::string_view b) { return a.rep_ && a.rep_->text == b; }
  friend bool operator==(const shared_text& a, const char* b) { return a == std::string_view(b); }
  friend bool operator==(const shared_text& a, const std::string& b) { return a == std::string_view(b); }

  friend std::ostream& operator<<(std::ostream& os, const shared_text& t);

  // How many distinct texts are alive (for tests and metrics).
  static std::size_t pool_size();

  // For a loader that hands one text out to many rows: reserve(n) adds n references in one
  // step, and each take_reserved() hands one of them out without touching the shared count
  // (which a parallel load would otherwise bounce between cores once per field). Every
  // reserved reference must be taken; one left over only keeps the text from being swept.
  void reserve(std::size_t n) const noexcept {
    if (rep_) rep_->refs.fetch_add(n, std::memory_order_relaxed);
  }
  shared_text take_reserved() const noexcept { return shared_text(rep_, adopt); }

 private:
  struct rep {
    std::atomic<std::size_t> refs{1};
    std::string text;
  };
  struct front_cache;
  struct adopt_t {};
  static constexpr adopt_t adopt{};
  shared_text(rep* r, adopt_t) noexcept : rep_(r) {}  // takes a reference the caller holds
  static rep* intern(std::string_view s);
  static rep* intern_locked(std::string_view s, std::size_t hash);
  static const std::string& empty_text() noexcept {
    static const std::string e;
    return e;
  }
  static void retain(rep* r) noexcept {
    if (r) r->refs.fetch_add(1, std::memory_order_relaxed);
  }
  static void release(rep* r) noexcept;

  rep* rep_ = nullptr;
};

}  // namespace projcache
