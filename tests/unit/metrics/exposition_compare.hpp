#pragma once
// Compares two text expositions line by line: every byte equal except sample values, which must
// be the same number. The old path (prometheus-cpp's TextSerializer) prints 16 significant
// digits (0.687 as 0.6870000000000001); the text writer prints the shortest form that reads back
// the same, as Prometheus' Go client does.
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

namespace envprobe::testing {

// "" when equal in that sense, else the first differing lines.
inline std::string expositionDifference(const std::string& expected, const std::string& actual) {
  std::istringstream a(expected), b(actual);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool moreA = static_cast<bool>(std::getline(a, la));
    const bool moreB = static_cast<bool>(std::getline(b, lb));
    if (!moreA && !moreB) return "";
    const std::string where = "line " + std::to_string(line) + ":\n  " + la + "\n  " + lb;
    if (moreA != moreB) return where;
    if (la == lb) continue;
    const auto sa = la.rfind(' '), sb = lb.rfind(' ');
    if (la[0] == '#' || sa == std::string::npos || sb == std::string::npos ||
        la.compare(0, sa, lb, 0, sb) != 0)
      return where;
    const double va = std::strtod(la.c_str() + sa + 1, nullptr);
    const double vb = std::strtod(lb.c_str() + sb + 1, nullptr);
    if (!(std::fabs(va - vb) <= 1e-15 * std::fabs(va))) return where;
  }
}

}  // namespace envprobe::testing
