// Helpers of the nn tests for the golden data in tests/data: the window list of the manifest, raw
// float32 files, and the error measures every comparison reports.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace npw_test {

inline std::string data_path(const std::string& rel) { return std::string(NPW_TEST_DATA_DIR) + "/" + rel; }

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Raw little-endian float32 (the test machines are little-endian, as the golden files are).
inline std::vector<float> read_f32(const std::string& path) {
  const std::string bytes = read_text(path);
  if (bytes.size() % 4 != 0) throw std::runtime_error(path + ": size is not a multiple of 4");
  std::vector<float> v(bytes.size() / 4);
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(v.data()));
  return v;
}

struct GoldenWindow {
  std::string clip;
  int window = 0;
  int offset_frames = 0;
};

// Every encoder_output entry of manifest.json, found by its path ("golden/<clip>/enc_w<k>.f32") and
// its offset_frames field.
inline std::vector<GoldenWindow> encoder_windows() {
  const std::string manifest = read_text(data_path("manifest.json"));
  static const std::regex re("\"path\": \"golden/([A-Za-z0-9_]+)/enc_w([0-9]+)\\.f32\"[^}]*?\"offset_frames\": ([0-9]+)");
  std::vector<GoldenWindow> out;
  for (auto it = std::sregex_iterator(manifest.begin(), manifest.end(), re); it != std::sregex_iterator(); ++it) {
    out.push_back({(*it)[1].str(), std::stoi((*it)[2].str()), std::stoi((*it)[3].str())});
  }
  return out;
}

struct Diff {
  double rel_l2 = 0.0;
  double max_abs = 0.0;
};

inline Diff compare(const float* got, const float* want, std::size_t n) {
  double num = 0.0, den = 0.0, mx = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    num += d * d;
    den += static_cast<double>(want[i]) * want[i];
    mx = std::max(mx, std::fabs(d));
  }
  if (!std::isfinite(num)) return {INFINITY, INFINITY};
  return {den > 0 ? std::sqrt(num / den) : std::sqrt(num), mx};
}

}  // namespace npw_test
