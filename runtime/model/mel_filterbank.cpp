// librosa.filters.mel with htk=False, norm='slaney', fmin=0, fmax=sr/2, restated in C++ (see the header).
#include "model/mel_filterbank.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "util/error.h"

namespace npw {

namespace {

// Slaney's auditory toolbox scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above.
constexpr double kFSp = 200.0 / 3.0;
constexpr double kMinLogHz = 1000.0;
constexpr double kMinLogMel = kMinLogHz / kFSp;  // 15

double log_step() { return std::log(6.4) / 27.0; }

double hz_to_mel(double hz) {
  if (hz >= kMinLogHz) return kMinLogMel + std::log(hz / kMinLogHz) / log_step();
  return hz / kFSp;
}

double mel_to_hz(double mel) {
  if (mel >= kMinLogMel) return kMinLogHz * std::exp(log_step() * (mel - kMinLogMel));
  return kFSp * mel;
}

}  // namespace

std::vector<float> slaney_mel_filterbank(int sample_rate, int n_fft, int n_mels) {
  if (sample_rate <= 0 || n_fft <= 0 || n_mels <= 0) {
    throw Error(ErrorKind::InvalidArgument, "mel filterbank: sample rate " + std::to_string(sample_rate) + ", n_fft " +
                                                std::to_string(n_fft) + " and n_mels " + std::to_string(n_mels) +
                                                " must all be positive");
  }
  const int n_bins = n_fft / 2 + 1;
  // numpy.fft.rfftfreq(n_fft, 1/sr)
  std::vector<double> fft_hz(static_cast<size_t>(n_bins));
  const double bin_hz = 1.0 / (n_fft * (1.0 / sample_rate));
  for (int k = 0; k < n_bins; ++k) fft_hz[k] = k * bin_hz;
  // n_mels + 2 band edges equally spaced in mel between 0 and Nyquist (numpy.linspace).
  const double mel_lo = hz_to_mel(0.0);
  const double mel_hi = hz_to_mel(sample_rate / 2.0);
  const int n_edges = n_mels + 2;
  std::vector<double> edge_hz(static_cast<size_t>(n_edges));
  const double step = (mel_hi - mel_lo) / (n_edges - 1);
  for (int i = 0; i < n_edges; ++i) edge_hz[i] = mel_to_hz(i == n_edges - 1 ? mel_hi : mel_lo + i * step);

  std::vector<float> w(static_cast<size_t>(n_mels) * n_bins);
  for (int m = 0; m < n_mels; ++m) {
    const double lower_width = edge_hz[m + 1] - edge_hz[m];
    const double upper_width = edge_hz[m + 2] - edge_hz[m + 1];
    const double enorm = 2.0 / (edge_hz[m + 2] - edge_hz[m]);  // equal area per band
    for (int k = 0; k < n_bins; ++k) {
      const double lower = (fft_hz[k] - edge_hz[m]) / lower_width;
      const double upper = (edge_hz[m + 2] - fft_hz[k]) / upper_width;
      // librosa stores the triangle into a float32 array before scaling it in place by enorm.
      const float tri = static_cast<float>(std::max(0.0, std::min(lower, upper)));
      w[static_cast<size_t>(m) * n_bins + k] = static_cast<float>(static_cast<double>(tri) * enorm);
    }
  }
  return w;
}

}  // namespace npw
