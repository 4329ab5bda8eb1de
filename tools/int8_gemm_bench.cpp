// npuwhisper-int8-gemm: the int8 backend's linear() against OpenBLAS SGEMM on the encoder's product
// shapes, in the same run and on the same thread count, every kernel variant this CPU supports. It
// exists because the whole-encoder figure of npuwhisper-bench mixes the GEMMs with attention and
// element-wise passes; this isolates the kernels the int8 work is about.
// Usage: npuwhisper-int8-gemm [--threads N] [--state D] [--repeat R]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/int8_backend.h"
#include "bench_ceilings.h"
#include "bench_stats.h"
#include "bench_timer.h"
#include "model/ggml_file.h"
#include "util/aligned_buffer.h"
#include "util/error.h"

namespace {

int flag(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) {
      char* end = nullptr;
      const long v = std::strtol(argv[i + 1], &end, 10);
      if (*end != '\0' || v < 1 || v > 1 << 16) {
        throw npw::Error(npw::ErrorKind::InvalidArgument, std::string("flag ") + name + ": expected a positive integer, got '" + argv[i + 1] + "'");
      }
      return static_cast<int>(v);
    }
  }
  return fallback;
}

void fill(npw::AlignedBuffer<float>& b, unsigned salt) {
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(((i + salt) * 2654435761u) % 1000) * 1e-3f - 0.5f;
}

npw::Summary time_int8(npw::Int8Isa isa, const npw::GemmShape& s, int threads, int repeat) {
  npw::CpuInt8Backend be(threads, isa);
  npw::AlignedBuffer<float> w(static_cast<std::size_t>(s.N) * s.K), x(static_cast<std::size_t>(s.M) * s.K),
      y(static_cast<std::size_t>(s.M) * s.N), bias(static_cast<std::size_t>(s.N));
  fill(w, 1);
  fill(x, 2);
  fill(bias, 3);
  npw::TensorView v;
  v.name = s.name;
  v.type = npw::GgmlType::F32;
  v.n_dims = 2;
  v.ne[0] = s.K;
  v.ne[1] = s.N;
  v.data = reinterpret_cast<const uint8_t*>(w.data());
  v.nbytes = w.size() * sizeof(float);
  auto packed = be.pack(v);
  auto call = [&] { be.linear(x.data(), s.M, s.K, *packed, bias.data(), y.data(), s.N); };
  call();
  std::vector<double> seconds;
  for (int r = 0; r < repeat; ++r) {
    npw::Stopwatch t;
    call();
    seconds.push_back(t.seconds());
  }
  const double ops = 2.0 * s.M * s.N * s.K;
  return npw::map_summary(npw::summarize(seconds), [&](double sec) { return ops / sec * 1e-9; }, true);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int threads = flag(argc, argv, "--threads", 2);
    const int state = flag(argc, argv, "--state", 384);
    const int repeat = flag(argc, argv, "--repeat", 15);
    std::vector<npw::GemmShape> shapes = npw::encoder_gemm_shapes(1500, state);
    shapes.push_back({"logits", 1, 51865, state});  // a decoder step's vocabulary projection
    shapes.push_back({"logits5", 5, 51865, state});  // the same for five beams: weights read once, arithmetic five times
    // The int8 products first: OpenBLAS's worker threads spin for a while after a multi-threaded sgemm
    // and would take cycles from whatever runs next.
    const std::vector<npw::Int8Isa> isas = npw::int8_supported_isas();
    std::vector<std::vector<npw::Summary>> int8(shapes.size());
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      for (npw::Int8Isa isa : isas) {
        const int r = isa == npw::Int8Isa::Scalar ? 2 : repeat;  // the reference is slow and not the point
        int8[i].push_back(time_int8(isa, shapes[i], threads, r));
      }
    }
    const auto sgemm = npw::measure_sgemm(shapes, threads, repeat);
    std::printf("%d thread(s), median of %d (min..max); GOP/s = 2 M N K / s; x = int8 / sgemm medians\n", threads,
                repeat);
    std::printf("%-8s %5s %6s %5s  %-26s", "shape", "M", "N", "K", "sgemm GFLOP/s");
    for (npw::Int8Isa isa : isas) std::printf("  int8 %-13s GOP/s  x", npw::int8_isa_name(isa));
    std::printf("\n");
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      const npw::GemmShape& s = shapes[i];
      const npw::Summary& f = sgemm[i].gflops;
      std::printf("%-8s %5d %6d %5d  %7.1f (%6.1f..%6.1f)     ", s.name.c_str(), s.M, s.N, s.K, f.median, f.min, f.max);
      for (const npw::Summary& g : int8[i]) std::printf("  %7.1f (%6.1f..%6.1f) %4.2f", g.median, g.min, g.max, g.median / f.median);
      std::printf("\n");
    }
  } catch (const npw::Error& e) {
    std::fprintf(stderr, "npuwhisper-int8-gemm: %s\n", e.what());
    return 2;
  }
  return 0;
}
