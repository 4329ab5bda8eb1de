// OpenBLAS is opened by the first product that needs it, not by loading the program (util/openblas.h):
// at AVX2 and AVX-512 a whole transcription on either CPU backend, word timestamps included, must
// leave it unopened (its pages and its worker thread are then never the process's), the first f32 product below that must open it and
// get OpenBLAS's result, and a library that cannot be opened must be an error naming the file.
// This executable links no BLAS itself, so "not opened" is not true by construction.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "audio/wav.h"
#include "backend/cpu/cpu_backend.h"
#include "decode/transcriber.h"
#include "model/ggml_file.h"
#include "model/mapped_file.h"
#include "model/model.h"
#include "model/random_model.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/openblas.h"

namespace npw {
namespace {

const std::string kDir = NPW_TEST_DATA_DIR;

// C = A B^T in double, the reference for a product through OpenBLAS.
std::vector<double> naive_abt(const std::vector<float>& a, const std::vector<float>& b, int M, int N, int K) {
  std::vector<double> c(static_cast<std::size_t>(M) * N, 0.0);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j)
      for (int k = 0; k < K; ++k) c[i * N + j] += static_cast<double>(a[i * K + k]) * b[j * K + k];
  return c;
}

std::vector<float> ramp(int n, float step) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>((i * 37) % 23 - 11) * step;
  return v;
}

// The test model's dimensions and vocabulary with q8_0 weights (random, seed 1), written to a temporary
// file: the q8_0 products keep quants in panels and gather rows, with no f32 copy for OpenBLAS.
std::string q8_0_test_model() {
  MappedFile f16(kDir + "/ggml-test-f16.bin");
  const GgmlFile parsed = parse_ggml_file(f16.data(), f16.size(), "ggml-test-f16.bin");
  const std::string path = ::testing::TempDir() + "npw-openblas-q8_0-" + std::to_string(::getpid()) + ".bin";
  std::ofstream out(path, std::ios::binary);
  write_random_whisper(out, path, whisper_dims("test"), GgmlType::Q8_0, 1, parsed.vocab);
  return path;
}

// One run of matmul on a fresh backend (2 threads: the split path as well as the single call).
std::vector<float> backend_abt(const std::vector<float>& a, const std::vector<float>& b, int M, int N, int K) {
  CpuBackend backend(2);
  std::vector<float> c(static_cast<std::size_t>(M) * N, -1.0f);
  backend.matmul(false, true, M, N, K, 1.0f, a.data(), K, b.data(), K, 0.0f, c.data(), N);
  return c;
}

TEST(OpenBlasLoading, TranscriptionLeavesItUnopenedThenTheFirstF32ProductOpensIt) {
  ASSERT_FALSE(openblas::loaded()) << "opened before anything asked for it: is it linked again?";
  if (active_simd_level() != SimdLevel::Scalar) {
    std::vector<float> audio = read_wav(kDir + "/audio/jfk.wav").samples;
    audio.resize(16000 * 4);
    const std::string q8_0 = q8_0_test_model();
    for (const std::string& file : {kDir + "/ggml-test-f32.bin", kDir + "/ggml-test-f16.bin", q8_0}) {
      for (const char* backend : {"cpu", "cpu-int8"}) {
        Options o;
        o.backend = backend;
        o.n_threads = 2;
        o.beam_size = 2;
        o.temperatures = {0.0f};
        o.word_timestamps = true;  // the alignment heads' scores are a matmul()
        Transcriber t(ModelCache::instance().get(file), o);
        t.transcribe_window(audio.data(), audio.size(), true);
        EXPECT_FALSE(openblas::loaded()) << file << " on " << backend << " opened OpenBLAS at "
                                         << simd_level_name(active_simd_level());
      }
    }
    std::remove(q8_0.c_str());  // mapped by the model cache still: the pages stay until it lets go
  }
  // Without AVX2 (and for the encoder's scalar reference and matmul()) the f32 products are OpenBLAS's.
  const int M = 37, N = 29, K = 53;
  const std::vector<float> a = ramp(M * K, 0.25f), b = ramp(N * K, 0.125f);
  const std::vector<float> c = backend_abt(a, b, M, N, K);
  EXPECT_TRUE(openblas::loaded());
  const std::vector<double> want = naive_abt(a, b, M, N, K);
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(c[i], want[i], 1e-4 * (1.0 + std::abs(want[i]))) << i;
  EXPECT_STRNE(openblas::config(), "");  // Debian's OpenBLAS says how it was built
}

// Run with NPW_OPENBLAS naming a file that does not exist (tests/runtime/nn/meson.build).
TEST(OpenBlasMissing, TheProductFailsNamingTheFileEveryTime) {
  const char* chosen = std::getenv("NPW_OPENBLAS");
  if (!chosen) GTEST_SKIP() << "needs NPW_OPENBLAS set to a missing file";
  const std::vector<float> a = ramp(8 * 8, 1.0f), b = ramp(8 * 8, 1.0f);
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      backend_abt(a, b, 8, 8, 8);
      FAIL() << "a product without OpenBLAS returned";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Unavailable);
      EXPECT_NE(std::string(e.what()).find("OpenBLAS"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(chosen), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(openblas::loaded());
}

}  // namespace
}  // namespace npw
