#pragma once
// Reading back what a run wrote: a whole file, and a CSV's data rows split into cells.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sflsim::test {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The rows after the header; cells split at commas (sflsim's CSVs quote nothing they need to split).
inline std::vector<std::vector<std::string>> csv_rows(const std::string& csv) {
  std::vector<std::vector<std::string>> out;
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    out.push_back(cells);
  }
  return out;
}

}  // namespace sflsim::test
