#pragma once
// What the config tests read from a LoadResult: every diagnostic formatted, the one error, or
// none at all.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "probe/config/yaml/config_loader.hpp"

namespace envprobe::testing {

inline std::vector<std::string> formatted(const LoadResult& result) {
  std::vector<std::string> out;
  for (const auto& d : result.diagnostics.items()) out.push_back(d.format());
  return out;
}

// The one error a load produced, formatted.
inline std::string onlyError(const LoadResult& result) {
  INFO(Catch::Detail::stringify(formatted(result)));
  REQUIRE(result.diagnostics.errorCount() == 1);
  return result.diagnostics.items()[0].format();
}

inline void requireClean(const LoadResult& result) {
  INFO(Catch::Detail::stringify(formatted(result)));
  REQUIRE(result.diagnostics.items().empty());
}

}  // namespace envprobe::testing
