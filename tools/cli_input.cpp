// Model and audio loading for npuwhisper-cli; see cli_input.h.
#include "cli_input.h"

#include <cmath>
#include <cstdio>

#include "audio/mel.h"
#include "util/error.h"

namespace npw {

std::shared_ptr<const Model> load_cli_model(const std::string& path) {
  auto model = Model::load(path);
  for (const std::string& w : model->warnings()) std::fprintf(stderr, "npuwhisper-cli: warning: %s\n", w.c_str());
  if (model->n_fft_bins() != kMelNBins) {
    throw Error(ErrorKind::Format, "model '" + path + "': mel filters have " + std::to_string(model->n_fft_bins()) +
                                       " frequency bins, Whisper's front end needs " + std::to_string(kMelNBins));
  }
  return model;
}

WavData load_cli_audio(const std::string& path) {
  WavData wav = read_wav(path);
  if (wav.truncated) {
    std::fprintf(stderr, "npuwhisper-cli: warning: '%s' ends inside its data chunk; using the %zu samples present\n",
                 path.c_str(), wav.samples.size());
  }
  for (const std::string& w : wav.warnings) std::fprintf(stderr, "npuwhisper-cli: warning: '%s': %s\n", path.c_str(), w.c_str());
  long long non_finite = 0;
  for (float x : wav.samples) non_finite += !std::isfinite(x);
  if (non_finite > 0) {
    // The log-mel reads them as silence (audio/mel.h); say so rather than decode quietly.
    std::fprintf(stderr, "npuwhisper-cli: warning: '%s' holds %lld NaN/Inf samples, read as 0\n", path.c_str(), non_finite);
  }
  return wav;
}

}  // namespace npw
