#include "probe/base/interned_string.hpp"

#include <atomic>
#include <mutex>
#include <unordered_set>

namespace envprobe {

struct InternedString::Node {
  explicit Node(std::string_view value) : text(value) {}
  std::atomic<std::size_t> holders{1};
  const std::string text;
};

// The process' pool. A holder count reaches zero only under the mutex (release), and only
// interning a text raises it from zero, also under the mutex: a node found in the set is never
// being freed. Copies raise it without the mutex, from a holder that keeps it above zero.
struct InternedString::Pool {
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
    std::size_t operator()(const Node* n) const { return (*this)(std::string_view(n->text)); }
  };
  struct Equal {
    using is_transparent = void;
    static std::string_view view(std::string_view s) { return s; }
    static std::string_view view(const Node* n) { return n->text; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const { return view(a) == view(b); }
  };
  std::mutex mutex;
  std::unordered_set<Node*, Hash, Equal> nodes;
};

InternedString::Pool& InternedString::pool() {
  static auto* p = new Pool;  // never destroyed: holders may outlive static destruction
  return *p;
}

InternedString::InternedString(std::string_view text) {
  if (text.empty()) return;
  auto& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  if (auto it = p.nodes.find(text); it != p.nodes.end()) {
    node_ = *it;
    node_->holders.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  node_ = new Node(text);
  p.nodes.insert(node_);
}

InternedString::InternedString(const InternedString& other) noexcept : node_(other.node_) {
  if (node_) node_->holders.fetch_add(1, std::memory_order_relaxed);
}

InternedString& InternedString::operator=(const InternedString& other) noexcept {
  if (node_ != other.node_) {
    if (other.node_) other.node_->holders.fetch_add(1, std::memory_order_relaxed);
    release();
    node_ = other.node_;
  }
  return *this;
}

InternedString& InternedString::operator=(InternedString&& other) noexcept {
  if (this != &other) {
    release();
    node_ = other.node_;
    other.node_ = nullptr;
  }
  return *this;
}

InternedString::~InternedString() { release(); }

void InternedString::release() noexcept {
  if (!node_) return;
  auto& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  if (node_->holders.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    p.nodes.erase(node_);
    delete node_;
  }
  node_ = nullptr;
}

const std::string& InternedString::str() const {
  static const std::string kEmpty;
  return node_ ? node_->text : kEmpty;
}

std::size_t InternedString::poolSize() {
  auto& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.nodes.size();
}

}  // namespace envprobe
