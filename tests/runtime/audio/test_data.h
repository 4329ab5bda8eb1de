// Test-only access to the shared test data: the mel filter bank of the test model, read straight
// from the GGML header so that the audio tests do not depend on the model loader, and raw float32
// golden arrays.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace npw_test {

inline std::string data_path(const std::string& rel) { return std::string(NPW_TEST_DATA_DIR) + "/" + rel; }

inline std::vector<uint8_t> read_bytes(const std::string& path, long offset = 0, long count = -1) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  if (count < 0) {
    std::fseek(f, 0, SEEK_END);
    count = std::ftell(f) - offset;
  }
  std::vector<uint8_t> bytes(static_cast<std::size_t>(count));
  std::fseek(f, offset, SEEK_SET);
  const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  if (got != bytes.size()) throw std::runtime_error("short read of " + path);
  return bytes;
}

// GGML whisper layout: uint32 magic, 11 int32 hparams, then int32 n_mel, int32 n_fft (= 201) and
// n_mel * n_fft float32 filters.
struct MelFilters {
  int n_mel = 0;
  int n_fft = 0;
  std::vector<float> data;
};

inline MelFilters load_mel_filters(const std::string& model_path) {
  const std::vector<uint8_t> head = read_bytes(model_path, 0, 56);
  int32_t dims[2];
  std::memcpy(dims, head.data() + 48, sizeof dims);
  MelFilters f;
  f.n_mel = dims[0];
  f.n_fft = dims[1];
  if (f.n_mel <= 0 || f.n_mel > 1000 || f.n_fft != 201) throw std::runtime_error("unexpected mel header in " + model_path);
  const std::vector<uint8_t> body = read_bytes(model_path, 56, 4L * f.n_mel * f.n_fft);
  f.data.resize(static_cast<std::size_t>(f.n_mel) * f.n_fft);
  std::memcpy(f.data.data(), body.data(), body.size());
  return f;
}

inline std::vector<float> read_f32(const std::string& path) {
  const std::vector<uint8_t> bytes = read_bytes(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

}  // namespace npw_test
