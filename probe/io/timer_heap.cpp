#include "probe/io/timer_heap.hpp"

namespace envprobe {

TimerHeap::TimerId TimerHeap::add(TimePoint when, std::function<void()> callback) {
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.callback = std::move(callback);
  s.live = true;
  heap_.push_back(Entry{when, nextSeq_++, slot});
  place(heap_.size() - 1, heap_.back());
  siftUp(heap_.size() - 1);
  return (static_cast<TimerId>(s.generation) << 32) | slot;
}

void TimerHeap::cancel(TimerId id) {
  const auto slot = static_cast<std::uint32_t>(id & 0xffffffffu);
  const auto generation = static_cast<std::uint32_t>(id >> 32);
  if (slot >= slots_.size()) return;
  Slot& s = slots_[slot];
  if (!s.live || s.generation != generation) return;
  removeAt(s.heapIndex);
  s.callback = nullptr;
  release(slot);
}

std::function<void()> TimerHeap::popTop() {
  const std::uint32_t slot = heap_.front().slot;
  removeAt(0);
  std::function<void()> callback = std::move(slots_[slot].callback);
  slots_[slot].callback = nullptr;
  release(slot);
  return callback;
}

void TimerHeap::release(std::uint32_t slot) {
  Slot& s = slots_[slot];
  s.live = false;
  if (++s.generation == 0) s.generation = 1;  // ids are never 0
  free_.push_back(slot);
}

void TimerHeap::removeAt(std::size_t index) {
  const std::size_t last = heap_.size() - 1;
  if (index != last) {
    const Entry moved = heap_[last];
    heap_.pop_back();
    place(index, moved);
    if (index > 0 && before(heap_[index], heap_[(index - 1) / 2])) siftUp(index);
    else siftDown(index);
  } else {
    heap_.pop_back();
  }
}

void TimerHeap::siftUp(std::size_t index) {
  const Entry entry = heap_[index];
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (!before(entry, heap_[parent])) break;
    place(index, heap_[parent]);
    index = parent;
  }
  place(index, entry);
}

void TimerHeap::siftDown(std::size_t index) {
  const Entry entry = heap_[index];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * index + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], entry)) break;
    place(index, heap_[child]);
    index = child;
  }
  place(index, entry);
}

}  // namespace envprobe
