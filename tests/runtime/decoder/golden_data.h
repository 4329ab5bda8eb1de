// Readers for the golden arrays in tests/data: raw little-endian f32/i32 files, and the few numbers
// the decoder tests need from manifest.json (init tokens, greedy step gaps), found by exact key text
// because the manifest is generated with a fixed layout.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace npw {
namespace testdata {

inline std::string path(const std::string& rel) { return std::string(NPW_TEST_DATA_DIR) + "/" + rel; }

inline bool exists(const std::string& rel) { return std::ifstream(path(rel)).good(); }

template <typename T>
std::vector<T> read_raw(const std::string& rel) {
  std::ifstream f(path(rel), std::ios::binary);
  if (!f) return {};
  f.seekg(0, std::ios::end);
  std::size_t bytes = static_cast<std::size_t>(f.tellg());
  f.seekg(0);
  std::vector<T> v(bytes / sizeof(T));
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  return v;
}

inline const std::string& manifest() {
  static const std::string text = [] {
    std::ifstream f(path("manifest.json"));
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }();
  return text;
}

// The numbers of the JSON array under `key` in the manifest entry whose "path" is `rel`.
inline std::vector<double> manifest_array(const std::string& rel, const std::string& key) {
  const std::string& m = manifest();
  std::size_t at = m.find("\"path\": \"" + rel + "\"");
  if (at == std::string::npos) return {};
  std::size_t end_of_entry = m.find("\"path\": ", at + 1);
  std::size_t k = m.find("\"" + key + "\": [", at);
  if (k == std::string::npos || (end_of_entry != std::string::npos && k > end_of_entry)) return {};
  std::size_t open = m.find('[', k), close = m.find(']', open);
  std::vector<double> out;
  std::stringstream ss(m.substr(open + 1, close - open - 1));
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stod(item));
  return out;
}

}  // namespace testdata
}  // namespace npw
