#pragma once
// A first-in, first-out queue that holds no memory while it is empty. A WebSocket subscriber is
// idle almost all of its life, and an empty std::deque still holds its first 512-byte block and
// its map: with a thousand subscribers, two queues each were a megabyte of nothing.
//
// A vector and the index of its front: popping moves nothing; the part already taken is cut off
// once it is over half the vector (each element moves at most once more: O(1) amortized), and
// the storage is given back whenever the queue runs empty.
#include <cstddef>
#include <utility>
#include <vector>

namespace projcache {

template <class T>
class fifo {
 public:
  bool empty() const noexcept { return head_ == items_.size(); }
  std::size_t size() const noexcept { return items_.size() - head_; }
  T& front() { return items_[head_]; }

  void push_back(T value) { items_.push_back(std::move(value)); }
  template <class It>
  void assign(It first, It last) {
    clear();
    items_.assign(first, last);
  }

  void pop_front() {
    items_[head_++] = T{};  // what was taken is released now, not when the block is cut
    if (empty()) {
      clear();
    } else if (head_ >= 32 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void clear() {
    std::vector<T>().swap(items_);
    head_ = 0;
  }
  // Bytes held, for tests: none once empty.
  std::size_t capacity() const noexcept { return items_.capacity(); }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;
};

}  // namespace projcache
