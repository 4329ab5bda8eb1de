// The two-product log-mel (see mel_products.h).
#include "nn/mel_products.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "model/ggml_file.h"
#include "util/error.h"

namespace npw {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kSpectrum = 2 * kMelNBins;  // cosine rows, then sine rows
constexpr int kSplitIn = 3 * kMelNFft;    // [x_hi | x_lo | x_hi], see the constructor

// x rounded to bf16 (to nearest even), as a float: x - bf16_head(x) is then exact in float.
float bf16_head(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7F800000u) == 0x7F800000u) return x;  // inf / nan: not reached (inputs are finite)
  u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
  float r;
  std::memcpy(&r, &u, 4);
  return std::isfinite(r) ? r : x;
}

TensorView f32_view(const char* name, const std::vector<float>& data, int n_out, int n_in) {
  TensorView v;
  v.name = name;
  v.type = GgmlType::F32;
  v.n_dims = 2;
  v.ne[0] = n_in;
  v.ne[1] = n_out;
  v.data = reinterpret_cast<const uint8_t*>(data.data());
  v.nbytes = data.size() * sizeof(float);
  return v;
}

}  // namespace

MelProducts::MelProducts(const float* filters, int n_mels, Backend& backend) : LogMelFrontEnd(n_mels), backend_(backend) {
  if (!filters || n_mels <= 0) throw Error(ErrorKind::InvalidArgument, "mel products: need a filter bank with at least one filter");
  filters_.assign(filters, filters + static_cast<std::size_t>(n_mels) * kMelNBins);
  for (std::size_t i = 0; i < filters_.size(); ++i) {
    if (!std::isfinite(filters_[i]))
      throw Error(ErrorKind::Format, "mel filter bank: non-finite value at filter " + std::to_string(i / kMelNBins) +
                                         ", bin " + std::to_string(i % kMelNBins));
  }
  // Row k < 201: w[j] cos(2 pi k j / 400); row 201 + k: w[j] sin(...). The sign of the imaginary
  // part does not matter to |X|^2. Computed in double: the basis is the reference the device rounds.
  //
  // A device rounds both operands to bf16 (8 bits of mantissa): the frames' rounding noise, 48 dB
  // below each frame's level, would fill the spectral valleys of speech (measured: 0.3 of the scaled
  // log-mel, 12 dB, on the golden clips). So each operand is split into a bf16 head and the rest,
  // and the product is taken over K = 3 x 400: [x_hi | x_lo | x_hi] . [b_hi | b_hi | b_lo], which
  // leaves out only x_lo . b_lo (2^-16 relative). The filter bank product needs no split: its
  // operands are powers, whose relative rounding (2^-9) is 0.001 in log10.
  basis_.resize(static_cast<std::size_t>(kSpectrum) * kSplitIn);
  for (int k = 0; k < kMelNBins; ++k) {
    for (int j = 0; j < kMelNFft; ++j) {
      const double w = 0.5 - 0.5 * std::cos(2.0 * kPi * j / kMelNFft);
      const double phase = 2.0 * kPi * static_cast<double>((static_cast<int64_t>(k) * j) % kMelNFft) / kMelNFft;
      for (int part = 0; part < 2; ++part) {
        const float b = static_cast<float>(w * (part == 0 ? std::cos(phase) : std::sin(phase)));
        const float hi = bf16_head(b);
        float* row = basis_.data() + static_cast<std::size_t>(part * kMelNBins + k) * kSplitIn;
        row[j] = hi;
        row[kMelNFft + j] = hi;
        row[2 * kMelNFft + j] = b - hi;
      }
    }
  }
  dft_ = backend_.pack_for_many_rows(f32_view("log-mel DFT basis", basis_, kSpectrum, kSplitIn));
  mel_ = backend_.pack_for_many_rows(f32_view("log-mel filter bank", filters_, n_mels, kMelNBins));
  const std::size_t F = kChunkFrames;
  signal_.resize((F - 1) * kMelHop + kMelNFft);
  frames_.resize(F * kSplitIn);
  spectrum_.resize(F * kSpectrum);
  power_.resize(F * kMelNBins);
  mel_out_.resize(F * static_cast<std::size_t>(n_mels));
}

MelProducts::~MelProducts() = default;

int64_t MelProducts::compute_raw(const float* samples, int64_t n, int64_t n_zeros, float* out, int64_t out_stride) {
  if (n < 0 || n_zeros < 0 || (n > 0 && !samples)) throw Error(ErrorKind::InvalidArgument, "mel: bad sample span");
  const int64_t length = n + n_zeros;
  const int64_t n_frames = mel_frames(length);
  if (out_stride < n_frames)
    throw Error(ErrorKind::InvalidArgument, "mel: output stride " + std::to_string(out_stride) + " < " +
                                                std::to_string(n_frames) + " frames");
  int64_t nonfinite = 0;
  for (int64_t i = 0; i < n; ++i) nonfinite += !std::isfinite(samples[i]);
  const int64_t reflect_length = std::max<int64_t>(length, kMelNFft / 2 + 1);
  auto sample = [&](int64_t p) -> float {
    const int64_t i = mel_reflect(p, reflect_length);
    if (i >= n) return 0.0f;
    const float v = samples[i];
    return std::isfinite(v) ? v : 0.0f;
  };

  for (int64_t f0 = 0; f0 < n_frames; f0 += kChunkFrames) {
    const int rows = static_cast<int>(std::min<int64_t>(kChunkFrames, n_frames - f0));
    // Frame t reads samples [t * 160 - 200, t * 160 + 200): the chunk's frames overlap in one
    // contiguous, reflect-padded stretch, from which each row takes its split frame.
    const int64_t p0 = f0 * kMelHop - kMelNFft / 2;
    const int64_t span = static_cast<int64_t>(rows - 1) * kMelHop + kMelNFft;
    float* sig = signal_.data();
    for (int64_t j = 0; j < span; ++j) sig[j] = sample(p0 + j);
    for (int r = 0; r < rows; ++r) {
      const float* x = sig + static_cast<std::size_t>(r) * kMelHop;
      float* f = frames_.data() + static_cast<std::size_t>(r) * kSplitIn;
      for (int j = 0; j < kMelNFft; ++j) {
        const float hi = bf16_head(x[j]);
        f[j] = hi;
        f[kMelNFft + j] = x[j] - hi;
        f[2 * kMelNFft + j] = hi;
      }
    }
    const float* X = frames_.data();
    const int ldx = kSplitIn;
    backend_.linear(X, rows, ldx, *dft_, nullptr, spectrum_.data(), kSpectrum);
    for (int r = 0; r < rows; ++r) {
      const float* re = spectrum_.data() + static_cast<std::size_t>(r) * kSpectrum;
      const float* im = re + kMelNBins;
      float* p = power_.data() + static_cast<std::size_t>(r) * kMelNBins;
      for (int k = 0; k < kMelNBins; ++k) p[k] = std::min(re[k] * re[k] + im[k] * im[k], FLT_MAX);
    }
    backend_.linear(power_.data(), rows, kMelNBins, *mel_, nullptr, mel_out_.data(), n_mels_);
    for (int r = 0; r < rows; ++r) {
      const float* m = mel_out_.data() + static_cast<std::size_t>(r) * n_mels_;
      for (int b = 0; b < n_mels_; ++b) {
        // A product's rounding can leave a tiny negative power where the exact value is 0.
        const float v = std::isfinite(m[b]) ? m[b] : FLT_MAX;
        out[static_cast<std::size_t>(b) * out_stride + f0 + r] = std::log10(std::max(v, 1e-10f));
      }
    }
  }
  return nonfinite;
}

}  // namespace npw
