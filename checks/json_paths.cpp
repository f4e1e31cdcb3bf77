#include "checks/json_paths.hpp"

#include <charconv>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

namespace envprobe {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxTokenExcerpt = 40;
constexpr std::size_t kMaxErrorText = 300;

// The paths as a tree of steps, so one pass over the body follows all of them.
struct PathTree {
  struct Node {
    std::string step;
    std::optional<std::size_t> index;  // the step read as an array index, when it is one
    std::vector<int> children;
    std::vector<int> paths;  // paths ending here
    std::vector<int> below;  // paths ending here or further down
  };
  std::vector<Node> nodes{Node{}};  // [0]: the root, where the empty path ends

  explicit PathTree(const std::vector<std::string>& paths) {
    for (int p = 0; p < static_cast<int>(paths.size()); ++p) {
      const std::string& path = paths[static_cast<std::size_t>(p)];
      int node = 0;
      nodes[0].below.push_back(p);
      std::size_t start = 0;
      while (!path.empty()) {
        std::size_t dot = path.find('.', start);
        std::size_t end = dot == std::string::npos ? path.size() : dot;
        node = child(node, path.substr(start, end - start));
        nodes[static_cast<std::size_t>(node)].below.push_back(p);
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      nodes[static_cast<std::size_t>(node)].paths.push_back(p);
    }
  }

  int child(int parent, std::string step) {
    for (int c : nodes[static_cast<std::size_t>(parent)].children) {
      if (nodes[static_cast<std::size_t>(c)].step == step) return c;
    }
    Node node;
    std::size_t index = 0;
    auto [ptr, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
    if (!step.empty() && ec == std::errc() && ptr == step.data() + step.size()) node.index = index;
    node.step = std::move(step);
    nodes.push_back(std::move(node));
    int id = static_cast<int>(nodes.size() - 1);
    nodes[static_cast<std::size_t>(parent)].children.push_back(id);
    return id;
  }

  const Node& operator[](int id) const { return nodes[static_cast<std::size_t>(id)]; }
};

void keep(JsonPathValue& value, JsonPathValue::Kind kind, std::string_view text,
          std::size_t keepBytes) {
  value.kind = kind;
  value.truncated = text.size() > keepBytes;
  value.text.assign(text.substr(0, keepBytes));
}

// Builds one object/array value at a path, within depth and size bounds.
class Capture {
 public:
  Capture(std::vector<int> paths, bool array)
      : paths_(std::move(paths)), root_(array ? json::array() : json::object()) {
    stack_.push_back(&root_);
  }

  void start(bool array) {
    // open_ containers enclose the new one: its depth below the captured value.
    if (!broken() && open_ >= kMaxJsonValueDepth) {
      tooDeep_ = true;
      breakOff();
    }
    if (admit(1)) stack_.push_back(place(array ? json::array() : json::object()));
    ++open_;
  }

  bool end() {  // true when the captured value itself ended
    --open_;
    if (!broken()) stack_.pop_back();
    return open_ == 0;
  }

  void key(const std::string& key) {
    if (admit(key.size() + 3)) key_ = key;
  }

  void scalar(const json& value) {
    if (admit(1)) place(value);
  }

  void string(const std::string& value) {
    if (admit(value.size() + 2)) place(json(value));  // counted before it is copied
  }

  void finish(std::vector<JsonPathValue>& values, std::size_t keepBytes) {
    for (int p : paths_) {
      JsonPathValue& value = values[static_cast<std::size_t>(p)];
      if (tooDeep_) {
        value = {JsonPathValue::Kind::TooDeep, {}, false};
      } else if (tooLarge_) {
        value = {JsonPathValue::Kind::TooLarge, {}, false};
      } else {
        keep(value, JsonPathValue::Kind::Other,
             root_.dump(-1, ' ', false, json::error_handler_t::replace), keepBytes);
      }
    }
  }

 private:
  bool broken() const { return tooDeep_ || tooLarge_; }

  void breakOff() {
    root_ = json();
    stack_.clear();
    stack_.shrink_to_fit();
  }

  // Counts a lower bound of the value's text size; past the budget it is no longer built.
  bool admit(std::size_t weight) {
    if (broken()) return false;
    size_ += weight;
    if (size_ <= kMaxJsonValueBytes) return true;
    tooLarge_ = true;
    breakOff();
    return false;
  }

  json* place(json value) {
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(value));
      return &top.back();
    }
    json& slot = top[key_];  // a repeated key keeps its last value
    slot = std::move(value);
    return &slot;
  }

  std::vector<int> paths_;
  json root_;
  std::vector<json*> stack_;  // open containers; children of a std::map/vector top only
  std::string key_;
  int open_ = 1;
  std::size_t size_ = 0;
  bool tooDeep_ = false;
  bool tooLarge_ = false;
};

// Printable, short: parser messages may quote the body. `quoted`: also escape what would end or
// confuse a "..." excerpt.
std::string sanitize(std::string_view text, std::size_t limit, bool quoted = false) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      if (quoted && (c == '"' || c == '\\')) out += '\\';
      out += static_cast<char>(c);
    }
  }
  if (text.size() > limit) out += "...";
  return out;
}

// nlohmann's message minus its "[json.exception...] " prefix, with the token it quotes (body
// bytes, possibly megabytes of an unterminated string) cut to a short excerpt.
std::string describeParseError(std::string what, const std::string& token) {
  if (!what.empty() && what.front() == '[') {
    auto close = what.find("] ");
    if (close != std::string::npos) what.erase(0, close + 2);
  }
  static const std::string kLastRead = "last read: '";
  auto at = what.find(kLastRead);
  std::size_t tokenAt = at + kLastRead.size();
  if (at != std::string::npos && what.compare(tokenAt, token.size(), token) == 0 &&
      tokenAt + token.size() < what.size() && what[tokenAt + token.size()] == '\'') {
    std::string_view tail(what);
    tail.remove_prefix(tokenAt + token.size() + 1);
    return sanitize(std::string_view(what).substr(0, at), kMaxErrorText) + "last read: \"" +
           sanitize(token, kMaxTokenExcerpt, true) + '"' + sanitize(tail, kMaxErrorText);
  }
  return sanitize(what, kMaxErrorText);
}

class PathHandler {
 public:
  PathHandler(const PathTree& tree, std::vector<JsonPathValue>& values, std::size_t keepBytes)
      : tree_(tree), values_(values), keepBytes_(keepBytes) {}

  const std::optional<std::string>& error() const { return error_; }

  bool null() { return scalar(json(nullptr)); }
  bool boolean(bool value) { return scalar(json(value)); }
  bool number_integer(json::number_integer_t value) { return scalar(json(value)); }
  bool number_unsigned(json::number_unsigned_t value) { return scalar(json(value)); }
  bool number_float(json::number_float_t value, const std::string&) { return scalar(json(value)); }

  bool string(std::string& value) {
    if (skipped_ > 0) return true;
    arrive();
    for (auto& capture : captures_) capture->string(value);
    for (int node : next_) {
      for (int p : tree_[node].paths) {
        keep(values_[static_cast<std::size_t>(p)], JsonPathValue::Kind::String, value, keepBytes_);
      }
    }
    return true;
  }

  bool binary(json::binary_t&) { return false; }  // not produced by JSON text

  bool start_object(std::size_t) { return start(false); }
  bool start_array(std::size_t) { return start(true); }
  bool end_object() { return end(); }
  bool end_array() { return end(); }

  bool key(std::string& key) {
    if (skipped_ > 0) return true;
    for (auto& capture : captures_) capture->key(key);
    next_.clear();
    for (int node : frames_.back().nodes) {
      for (int c : tree_[node].children) {
        if (tree_[c].step == key) next_.push_back(c);
      }
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string& token, const nlohmann::detail::exception& e) {
    error_ = "body is not valid JSON: " + describeParseError(e.what(), token);
    return false;
  }

 private:
  struct Frame {
    bool array = false;
    std::size_t index = 0;   // of the next element
    std::vector<int> nodes;  // tree nodes this container stands at (with children)
  };

  // A value begins: find the tree nodes it stands at (next_) and forget what a previous value
  // under the same key had left there.
  void arrive() {
    if (frames_.empty()) {
      next_.assign(1, 0);
    } else if (frames_.back().array) {
      Frame& frame = frames_.back();
      next_.clear();
      for (int node : frame.nodes) {
        for (int c : tree_[node].children) {
          if (tree_[c].index == frame.index) next_.push_back(c);
        }
      }
      ++frame.index;
    }
    for (int node : next_) {
      for (int p : tree_[node].below) values_[static_cast<std::size_t>(p)] = JsonPathValue{};
    }
  }

  bool scalar(const json& value) {
    if (skipped_ > 0) return true;
    arrive();
    for (auto& capture : captures_) capture->scalar(value);
    for (int node : next_) {
      if (tree_[node].paths.empty()) continue;
      std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
      for (int p : tree_[node].paths) {
        keep(values_[static_cast<std::size_t>(p)], JsonPathValue::Kind::Other, text, keepBytes_);
      }
    }
    return true;
  }

  bool start(bool array) {
    if (++depth_ > kMaxJsonDepth) {
      error_ = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      return false;
    }
    if (skipped_ > 0) {
      ++skipped_;
      return true;
    }
    arrive();
    for (auto& capture : captures_) capture->start(array);
    Frame frame{array, 0, {}};
    std::vector<int> capturedPaths;
    for (int node : next_) {
      const auto& paths = tree_[node].paths;
      capturedPaths.insert(capturedPaths.end(), paths.begin(), paths.end());
      if (!tree_[node].children.empty()) frame.nodes.push_back(node);
    }
    if (!capturedPaths.empty()) {
      captures_.push_back(std::make_unique<Capture>(std::move(capturedPaths), array));
    }
    if (frame.nodes.empty() && captures_.empty()) {
      skipped_ = 1;  // nothing wanted in there: only count its nesting
    } else {
      frames_.push_back(std::move(frame));
    }
    return true;
  }

  bool end() {
    --depth_;
    if (skipped_ > 0) {
      --skipped_;
      return true;
    }
    frames_.pop_back();
    for (std::size_t i = 0; i < captures_.size();) {
      if (captures_[i]->end()) {
        captures_[i]->finish(values_, keepBytes_);
        captures_.erase(captures_.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    return true;
  }

  const PathTree& tree_;
  std::vector<JsonPathValue>& values_;
  std::size_t keepBytes_;
  std::optional<std::string> error_;
  int depth_ = 0;
  int skipped_ = 0;            // nesting inside a container nothing is wanted from
  std::vector<Frame> frames_;  // containers being followed
  std::vector<int> next_;      // tree nodes of the value about to begin
  std::vector<std::unique_ptr<Capture>> captures_;
};

}  // namespace

JsonPathScan scanJsonPaths(std::string_view body, const std::vector<std::string>& paths,
                           std::size_t keepBytes) {
  JsonPathScan scan;
  scan.values.resize(paths.size());
  PathTree tree(paths);
  PathHandler handler(tree, scan.values, keepBytes);
  if (!json::sax_parse(body, &handler) || handler.error()) {
    scan.error = handler.error().value_or("body is not valid JSON");
    scan.values.clear();
  }
  return scan;
}

}  // namespace envprobe
