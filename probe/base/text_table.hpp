#pragma once
// Left-aligned text columns for terminal output.
#include <ostream>
#include <string>
#include <vector>

namespace envprobe {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  // Cells are made printable: valid UTF-8, control characters shown as U+FFFD, so a target's
  // bytes cannot reach the terminal as escape sequences or extra lines.
  void addRow(std::vector<std::string> row);
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace envprobe
