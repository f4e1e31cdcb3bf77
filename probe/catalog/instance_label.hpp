#pragma once
// The `instance` label of a target's probe series, as blackbox_exporter setups have it: the
// target's URL (redacted, never a secret), so that `label_values(probe_success, instance)` lists
// targets. Unique per series within one agent: a series with an `address` label appends
// "@<address>", and where two targets would still share a value (two checks on one URL, one
// hostname in two services) "#<check>" (or "#<service>/<check>", or
// "#<service>/<check>/<visibility>") follows the URL. Pure and deterministic: the same targets
// give the same values, whatever their order.
#include <string>
#include <string_view>
#include <vector>

#include "probe/catalog/target.hpp"

namespace envprobe {

// Sets `instance` on every target; computed over all of them, since uniqueness depends on the
// others.
void assignInstances(std::vector<Target>& targets);

// The target's instance: `instance`, or the redacted URL when it is empty. The view is of the
// target's own strings, or of `scratch` when the URL needed redacting.
std::string_view instanceView(const Target& target, std::string& scratch);
std::string instanceOf(const Target& target);

// The `instance` label of one series of a target: its instance (the redacted URL when none was
// assigned), "@<address>" appended when the series has an address label.
std::string seriesInstance(const Target& target, const std::string& address);

}  // namespace envprobe
