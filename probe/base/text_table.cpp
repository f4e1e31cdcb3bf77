#include "probe/base/text_table.hpp"

#include <algorithm>

#include "probe/base/utf8.hpp"

namespace envprobe {

void TextTable::addRow(std::vector<std::string> row) {
  for (auto& cell : row) {
    cell = makeValidUtf8(cell);
    std::string clean;
    clean.reserve(cell.size());
    for (unsigned char c : cell) {
      if (c < 0x20 || c == 0x7f) clean += "\xEF\xBF\xBD";
      else clean += static_cast<char>(c);
    }
    cell = std::move(clean);
  }
  rows_.push_back(std::move(row));
}

void TextTable::print(std::ostream& out) const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

}  // namespace envprobe
