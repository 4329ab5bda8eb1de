// npuwhisper-cli: the command-line front door to the runtime. For now it runs the stages that have
// golden data - log-mel of a file and the encoder on one window - and dumps them, so that the runtime
// can be checked against OpenAI's reference from a shell. Every failure ends with a message on stderr
// naming the file or flag and exit code 1.
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "audio/mel.h"
#include "audio/wav.h"
#include "backend/backend.h"
#include "cli_options.h"
#include "model/model.h"
#include "nn/encoder.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Raw float32 in the machine's byte order (little-endian on every supported target).
void write_f32(const std::string& path, const float* data, std::size_t n) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error(ErrorKind::Io, "cannot open '" + path + "' for writing: " + std::strerror(errno));
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(float)));
  f.close();
  if (!f) throw Error(ErrorKind::Io, "cannot write '" + path + "' (disk full or I/O error)");
}

int run(const CliOptions& o) {
  auto model = Model::load(o.model);
  const HParams& hp = model->hparams();
  if (model->n_fft_bins() != kMelNBins) {
    throw Error(ErrorKind::Format, "model '" + o.model + "': mel filters have " + std::to_string(model->n_fft_bins()) +
                                       " frequency bins, Whisper's front end needs " + std::to_string(kMelNBins));
  }

  WavData wav = read_wav(o.audio);
  if (wav.truncated) {
    std::fprintf(stderr, "npuwhisper-cli: warning: '%s' ends inside its data chunk; using the %zu samples present\n",
                 o.audio.c_str(), wav.samples.size());
  }
  const double seconds = static_cast<double>(wav.samples.size()) / kWavSampleRate;
  if (o.offset_seconds > seconds) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "flag '--offset': %.3f s is past the end of '%s' (%.3f s)", o.offset_seconds,
                  o.audio.c_str(), seconds);
    throw Error(ErrorKind::InvalidArgument, buf);
  }
  const int64_t offset_frames = std::llround(o.offset_seconds * (kMelSampleRate / kMelHop));

  ThreadPool pool(o.threads);
  auto t0 = Clock::now();
  MelSpectrogram mel(model->mel_filters().data(), hp.n_mels, &pool);
  std::vector<float> file_mel;
  const int64_t bad_samples = mel.compute_file_mel(wav.samples.data(), static_cast<int64_t>(wav.samples.size()), file_mel);
  if (bad_samples > 0) {
    std::fprintf(stderr, "npuwhisper-cli: warning: '%s' holds %lld NaN/Inf samples, read as 0\n", o.audio.c_str(),
                 static_cast<long long>(bad_samples));
  }
  std::vector<float> window(static_cast<std::size_t>(hp.n_mels) * kMelWindowFrames);
  slice_window(file_mel.data(), hp.n_mels, file_mel_frames(static_cast<int64_t>(wav.samples.size())), offset_frames,
               window.data());
  const double mel_ms = ms_since(t0);
  if (!o.dump_mel.empty()) write_f32(o.dump_mel, window.data(), window.size());

  auto backend = make_backend("cpu", o.threads);
  Encoder encoder(*model, *backend, pool);
  if (encoder.n_frames() != kMelWindowFrames) {
    throw Error(ErrorKind::Unsupported, "model '" + o.model + "': n_audio_ctx " + std::to_string(hp.n_audio_ctx) +
                                            " does not match 30 s windows (1500)");
  }
  t0 = Clock::now();
  const float* enc = encoder.encode(window.data());
  const double enc_ms = ms_since(t0);
  if (!o.dump_encoder.empty()) {
    write_f32(o.dump_encoder, enc, static_cast<std::size_t>(encoder.n_ctx()) * encoder.n_state());
  }

  std::printf("model %s (%s), audio %s: %.2f s, window at %.2f s (frame %lld), %d thread(s)\n",
              o.model.c_str(), model->describe().c_str(), o.audio.c_str(), seconds, o.offset_seconds,
              static_cast<long long>(offset_frames), o.threads);
  std::printf("mel %.1f ms, encoder (%s) %.1f ms\n", mel_ms, backend->kind().c_str(), enc_ms);
  return 0;
}

}  // namespace
}  // namespace npw

int main(int argc, char** argv) {
  try {
    const npw::CliOptions o = npw::parse_cli_options(argc, argv);
    if (o.help) {
      std::fputs(o.usage.c_str(), stdout);
      return 0;
    }
    return npw::run(o);
  } catch (const npw::Error& e) {
    std::fprintf(stderr, "npuwhisper-cli: error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "npuwhisper-cli: error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "npuwhisper-cli: error: %s\n", e.what());
  }
  return 1;
}
