#pragma once
// The event loop's timers: a binary min-heap of (deadline, sequence) with each timer's position
// kept in its slot, so cancelling removes it at once. Slots (and their callbacks) are reused
// through a free list: adding, cancelling and running a timer allocate nothing once the loop is
// warm, as long as the callback fits std::function's small buffer. Timers with the same deadline
// run in the order they were added. A TimerId carries its slot and the slot's generation, so an
// id that ran or was cancelled never matches the slot's next timer.
#include <cstdint>
#include <functional>
#include <vector>

#include "probe/io/timers.hpp"

namespace envprobe {

class TimerHeap {
 public:
  using TimePoint = Timers::TimePoint;
  using TimerId = Timers::TimerId;

  TimerId add(TimePoint when, std::function<void()> callback);
  void cancel(TimerId id);
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  // The earliest deadline; only when !empty().
  TimePoint earliest() const { return heap_.front().when; }
  // The earliest timer was added before `pass` began (see beginPass) and is due at `now`.
  bool topDue(TimePoint now, std::uint64_t pass) const {
    return !heap_.empty() && heap_.front().when <= now && heap_.front().seq < pass;
  }
  // A pass runs only the timers added before it began: one that a callback adds for a time
  // already passed runs in the next pass, after the loop has polled its descriptors once.
  std::uint64_t beginPass() const { return nextSeq_; }
  // Removes the earliest timer and hands back its callback; only when !empty().
  std::function<void()> popTop();

 private:
  struct Entry {
    TimePoint when;
    std::uint64_t seq;
    std::uint32_t slot;
  };
  struct Slot {
    std::function<void()> callback;
    std::uint32_t generation = 1;
    std::uint32_t heapIndex = 0;
    bool live = false;
  };

  static bool before(const Entry& a, const Entry& b) {
    return a.when < b.when || (a.when == b.when && a.seq < b.seq);
  }
  void place(std::size_t index, const Entry& entry) {
    heap_[index] = entry;
    slots_[entry.slot].heapIndex = static_cast<std::uint32_t>(index);
  }
  void siftUp(std::size_t index);
  void siftDown(std::size_t index);
  void removeAt(std::size_t index);
  void release(std::uint32_t slot);

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::uint64_t nextSeq_ = 0;
};

}  // namespace envprobe
