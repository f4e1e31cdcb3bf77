#pragma once
// A string stored once per distinct value for the whole process and held by pointer: for the
// names a million targets repeat (environment, service, check, backend), 8 bytes a holder
// instead of a 32-byte std::string and, for a long name, its own copy. Immutable; reads as a
// const std::string&. Copying and dropping one is thread-safe; the last holder frees the value.
#include <compare>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

namespace envprobe {

class InternedString {
 public:
  InternedString() = default;
  InternedString(std::string_view text);  // NOLINT: implicit, like std::string's
  InternedString(const std::string& text) : InternedString(std::string_view(text)) {}  // NOLINT
  InternedString(const char* text) : InternedString(std::string_view(text)) {}          // NOLINT
  InternedString(const InternedString& other) noexcept;
  InternedString(InternedString&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
  InternedString& operator=(const InternedString& other) noexcept;
  InternedString& operator=(InternedString&& other) noexcept;
  ~InternedString();

  const std::string& str() const;
  operator const std::string&() const { return str(); }  // NOLINT
  operator std::string_view() const { return str(); }     // NOLINT
  bool empty() const { return node_ == nullptr; }
  std::size_t size() const { return str().size(); }
  const char* c_str() const { return str().c_str(); }
  const char* data() const { return str().data(); }

  // One node per distinct value: equal values are the same node.
  friend bool operator==(const InternedString& a, const InternedString& b) {
    return a.node_ == b.node_;
  }
  friend bool operator==(const InternedString& a, std::string_view b) { return a.str() == b; }
  friend bool operator==(const InternedString& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const InternedString& a, const char* b) { return a.str() == b; }
  friend std::strong_ordering operator<=>(const InternedString& a, const InternedString& b) {
    return a.str() <=> b.str();
  }
  friend std::string operator+(const std::string& a, const InternedString& b) { return a + b.str(); }
  friend std::string operator+(const InternedString& a, const std::string& b) { return a.str() + b; }
  friend std::string operator+(const char* a, const InternedString& b) { return a + b.str(); }
  friend std::string operator+(const InternedString& a, const char* b) { return a.str() + b; }
  friend std::string operator+(const InternedString& a, char b) { return a.str() + b; }
  friend std::ostream& operator<<(std::ostream& out, const InternedString& s) {
    return out << s.str();
  }

  // Distinct values held now (for tests).
  static std::size_t poolSize();

 private:
  struct Node;
  struct Pool;
  static Pool& pool();
  void release() noexcept;
  Node* node_ = nullptr;  // null: ""
};

}  // namespace envprobe

template <>
struct std::hash<envprobe::InternedString> {
  std::size_t operator()(const envprobe::InternedString& s) const noexcept {
    return std::hash<std::string>()(s.str());
  }
};
