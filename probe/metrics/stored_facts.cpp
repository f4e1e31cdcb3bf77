#include "probe/metrics/stored_facts.hpp"

namespace envprobe {

SharedText TextPool::intern(std::string_view text, const SharedText& current) {
  if (text == current.str()) return current;
  SharedText out;
  if (text.empty()) return out;
  if (auto it = pool_.find(text); it != pool_.end()) {
    out.text_ = it->second;
    return out;
  }
  out.text_ = std::make_shared<const std::string>(text);
  if (text.size() <= kMaxBytes && pool_.size() < kMaxEntries)
    pool_.emplace(std::string_view(*out.text_), out.text_);
  return out;
}

void StoredFacts::expandInto(SeriesFacts& out) const {
  static_cast<SeriesNumbers&>(out) = *this;
  out.lastProbeUnix = lastProbeUnix();
  out.detail = detail.str();
  out.serverHeader = serverHeader.str();
  out.resolvedAddress = resolvedAddress.str();
  out.version = version.str();
  out.failures = failures;
  out.tls = tls;
  out.lastChange = lastChange;
}

}  // namespace envprobe
