#include "probe/catalog/instance_label.hpp"

#include <map>
#include <set>

namespace envprobe {

namespace {

// The instance of a target at one level of disambiguation.
std::string labelAt(const Target& t, const std::string& url, int level) {
  switch (level) {
    case 0:
      return url;
    case 1:
      return url + "#" + t.check;
    case 2:
      return url + "#" + t.service + "/" + t.check;
    default:
      return url + "#" + t.service + "/" + t.check + "/" + toString(t.visibility);
  }
}

// Whether the labels give every series of the group its own instance. A pinned target has one
// series, "<label>@<backend>"; an unpinned one has "<label>" and, with address_mode all,
// "<label>@<ip>" for whatever its name resolves to, so its label must be its own outright.
bool distinct(const std::vector<Target*>& group, const std::vector<std::string>& labels) {
  std::set<std::string> series;
  std::map<std::string, int> byLabel;
  for (const auto& label : labels) ++byLabel[label];
  for (std::size_t i = 0; i < group.size(); ++i) {
    const Target& t = *group[i];
    const std::string key = t.backend.empty() ? labels[i] : labels[i] + "@" + t.backend;
    if (!series.insert(key).second) return false;
    if (t.backend.empty() && t.addressMode == AddressMode::All && byLabel[labels[i]] > 1)
      return false;
  }
  return true;
}

}  // namespace

void assignInstances(std::vector<Target>& targets) {
  std::map<std::string, std::vector<Target*>> byUrl;
  for (auto& t : targets) byUrl[redactedUrl(t.url)].push_back(&t);
  constexpr int kLastLevel = 3;
  for (auto& [url, group] : byUrl) {
    std::vector<std::string> labels(group.size());
    for (int level = 0; level <= kLastLevel; ++level) {
      for (std::size_t i = 0; i < group.size(); ++i) labels[i] = labelAt(*group[i], url, level);
      // The last level holds everything a target id holds but the backend: unique whenever
      // the ids are.
      if (level == kLastLevel || distinct(group, labels)) break;
    }
    for (std::size_t i = 0; i < group.size(); ++i) {
      Target& t = *group[i];
      // The URL itself: instanceOf() gives it back.
      t.instance = labels[i] == t.url ? InternedString() : InternedString(labels[i]);
    }
  }
}

std::string_view instanceView(const Target& target, std::string& scratch) {
  if (!target.instance.empty()) return target.instance;
  // No user info and no query: redactedUrl() would give the URL back unchanged.
  if (target.url.find_first_of("@?") == std::string::npos) return target.url;
  scratch = redactedUrl(target.url);
  return scratch;
}

std::string instanceOf(const Target& target) {
  std::string scratch;
  return std::string(instanceView(target, scratch));
}

std::string seriesInstance(const Target& target, const std::string& address) {
  std::string instance = instanceOf(target);
  if (!address.empty()) instance += "@" + address;
  return instance;
}

}  // namespace envprobe
