// Window mode of npuwhisper-cli; see cli_window.h. Every dump is raw little-endian C-order data.
#include "cli_window.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "audio/mel.h"
#include "backend/backend.h"
#include "cli_input.h"
#include "cli_output.h"
#include "decode/alignment_heads.h"
#include "decode/decoder_alignment_source.h"
#include "decode/find_alignment.h"
#include "decode/punctuation_merge.h"
#include "decode/tokenizer.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "nn/mel_products.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Raw values in the machine's byte order (little-endian on every supported target).
template <typename T>
void write_raw(const std::string& path, const T* data, std::size_t n) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error(ErrorKind::Io, "cannot open '" + path + "' for writing: " + std::strerror(errno));
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(T)));
  f.close();
  if (!f) throw Error(ErrorKind::Io, "cannot write '" + path + "' (disk full or I/O error)");
}

// Plain argmax: the lowest id wins ties.
int argmax(const float* x, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (x[i] > x[best]) best = i;
  }
  return best;
}

void check_tokens(const CliOptions& o, const Model& model) {
  const int V = model.vocab().n_vocab();
  const int n_ctx = model.hparams().n_text_ctx;
  for (int id : o.tokens) {
    if (id >= V) {
      throw Error(ErrorKind::InvalidArgument, "flag '--tokens': id " + std::to_string(id) + " is outside the vocabulary of '" +
                                                  o.model + "' [0, " + std::to_string(V) + ")");
    }
  }
  // The last generated token is written, never fed.
  const long fed = static_cast<long>(o.tokens.size()) + (o.greedy_plain > 0 ? o.greedy_plain - 1 : 0);
  if (fed > n_ctx) {
    throw Error(ErrorKind::InvalidArgument, "flags '--tokens'/'--greedy-plain': " + std::to_string(fed) +
                                                " positions exceed the model's text context of " + std::to_string(n_ctx));
  }
}

// Feeds o.tokens after the encoded window and writes what was asked for.
void run_tokens(const CliOptions& o, const Model& model, Backend& backend, ThreadPool& pool, const float* enc) {
  Decoder dec(model, backend, pool, 1);
  dec.set_audio(enc);
  const int V = dec.n_vocab();
  const TokenSpan span{o.tokens.data(), static_cast<int>(o.tokens.size())};
  if (!o.dump_logits.empty()) {
    dec.reset(1);
    std::vector<float> logits(o.tokens.size() * static_cast<std::size_t>(V));
    dec.decode_all(&span, 1, logits.data());
    write_raw(o.dump_logits, logits.data(), logits.size());
  }
  if (o.greedy_plain > 0) {
    dec.reset(1);
    const float* logits = dec.decode(&span, 1);
    const int eot = model.vocab().eot();
    std::vector<int32_t> out;
    for (;;) {
      const int t = argmax(logits, V);
      out.push_back(t);
      if (t == eot || static_cast<int>(out.size()) == o.greedy_plain) break;
      logits = dec.decode_next(&t);
    }
    write_raw(o.dump_tokens, out.data(), out.size());
  }
}

// --dump-words: OpenAI's find_alignment + merge_punctuations of the text in --tokens, which must be
// the whole sequence find_alignment feeds: start sequence, <|notimestamps|>, text, <|endoftext|>.
void run_words(const CliOptions& o, const Model& model, Backend& backend, ThreadPool& pool, const float* enc,
               int num_frames) {
  const Vocab& v = model.vocab();
  const std::vector<int>& t = o.tokens;
  std::size_t nots = 0;
  while (nots < t.size() && t[nots] != v.no_timestamps()) ++nots;
  if (nots == t.size() || nots == 0 || t[0] != v.sot() || t.back() != v.eot() || t.size() < nots + 2) {
    throw Error(ErrorKind::InvalidArgument,
                "flag '--tokens' with --dump-words: expected <|startoftranscript|>(" + std::to_string(v.sot()) +
                    ")[,language,task],<|notimestamps|>(" + std::to_string(v.no_timestamps()) +
                    "),text...,<|endoftext|>(" + std::to_string(v.eot()) + ")");
  }
  AlignmentTokens at;
  at.sot_sequence.assign(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(nots));
  at.no_timestamps = v.no_timestamps();
  at.eot = v.eot();
  at.language = "en";
  for (int id : at.sot_sequence)
    if (v.language_code(id)) at.language = v.language_code(id);
  const std::vector<int> text(t.begin() + static_cast<std::ptrdiff_t>(nots) + 1, t.end() - 1);
  for (int id : text) {
    if (id >= v.eot()) {
      throw Error(ErrorKind::InvalidArgument, "flag '--tokens' with --dump-words: " + std::to_string(id) +
                                                  " between <|notimestamps|> and <|endoftext|> is not a text token");
    }
  }
  Decoder dec(model, backend, pool, 1);
  DecoderAlignmentSource source(dec);
  WordAligner aligner(resolve_alignment_heads(o.transcribe.alignment_heads, model.hparams()), 7, 1.0f, &pool);
  source.use_heads(aligner.heads());  // before set_audio: the heads' layers keep float keys
  dec.set_audio(enc);
  Tokenizer tokenizer(v);
  std::vector<Word> words = aligner.find_alignment(source, tokenizer, at, text, num_frames);
  merge_punctuations(words, o.transcribe.prepend_punctuations, o.transcribe.append_punctuations);
  std::vector<Word> kept;
  for (Word& w : words)
    if (!w.word.empty()) kept.push_back(std::move(w));
  const std::string json = words_dump_json(kept);
  write_raw(o.dump_words, json.data(), json.size());
  std::printf("words: %zu over %d frames, heads %s\n", kept.size(), num_frames,
              format_alignment_heads(aligner.heads()).c_str());
}

}  // namespace

int run_window(const CliOptions& o) {
  auto model = load_cli_model(o.model);
  const HParams& hp = model->hparams();
  if (!o.tokens.empty()) check_tokens(o, *model);
  const WavData wav = load_cli_audio(o.audio);
  const double seconds = static_cast<double>(wav.samples.size()) / kWavSampleRate;
  if (o.offset_seconds > seconds) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "flag '--offset': %.3f s is past the end of '%s' (%.3f s)", o.offset_seconds,
                  o.audio.c_str(), seconds);
    throw Error(ErrorKind::InvalidArgument, buf);
  }
  const int64_t offset_frames = std::llround(o.offset_seconds * (kMelSampleRate / kMelHop));

  auto shared_pool = std::make_shared<ThreadPool>(o.threads);  // also the backend's
  ThreadPool& pool = *shared_pool;
  // Window mode compares with golden arrays: "auto" means the f32 CPU reference here unless a
  // backend is named. Made before the mel only when the mel is to run on its accelerator.
  std::unique_ptr<Backend> backend;
  auto use_backend = [&]() -> Backend& {
    if (!backend) {
      BackendSettings settings;
      settings.n_threads = o.threads;
      settings.kernel_dir = o.transcribe.kernel_dir;
      settings.pool = shared_pool;
      backend = make_backend(o.transcribe.backend == "auto" ? "cpu" : o.transcribe.backend, settings, nullptr);
    }
    return *backend;
  };
  std::unique_ptr<LogMelFrontEnd> mel;
  if (o.transcribe.mel_on_device) {
    Backend& b = use_backend();
    if (b.accelerator_books(nullptr)) {
      mel = std::make_unique<MelProducts>(model->mel_filters().data(), hp.n_mels, b.wide_range_products());
    } else {
      std::fprintf(stderr, "warning: flag '--mel-on-device': the backend %s has no accelerator; the log-mel runs on the CPU FFT\n",
                   b.kind().c_str());
    }
  }
  if (!mel) mel = std::make_unique<MelSpectrogram>(model->mel_filters().data(), hp.n_mels, &pool);
  auto t0 = Clock::now();
  std::vector<float> file_mel;
  mel->compute_file_mel(wav.samples.data(), static_cast<int64_t>(wav.samples.size()), file_mel);  // NaN/Inf: see cli_input
  std::vector<float> window(static_cast<std::size_t>(hp.n_mels) * kMelWindowFrames);
  slice_window(file_mel.data(), hp.n_mels, file_mel_frames(static_cast<int64_t>(wav.samples.size())), offset_frames,
               window.data());
  const double mel_ms = ms_since(t0);
  if (!o.dump_mel.empty()) write_raw(o.dump_mel, window.data(), window.size());

  std::printf("model %s (%s), audio %s: %.2f s, window at %.2f s (frame %lld), %d thread(s)\n", o.model.c_str(),
              model->describe().c_str(), o.audio.c_str(), seconds, o.offset_seconds,
              static_cast<long long>(offset_frames), o.threads);
  if (o.dump_encoder.empty() && o.tokens.empty()) {
    std::printf("mel %.1f ms\n", mel_ms);
    return 0;
  }

  Encoder encoder(*model, use_backend(), pool);
  if (encoder.n_frames() != kMelWindowFrames) {
    throw Error(ErrorKind::Unsupported, "model '" + o.model + "': n_audio_ctx " + std::to_string(hp.n_audio_ctx) +
                                            " does not match 30 s windows (1500)");
  }
  t0 = Clock::now();
  const float* enc = encoder.encode(window.data());
  const double enc_ms = ms_since(t0);
  if (!o.dump_encoder.empty()) {
    write_raw(o.dump_encoder, enc, static_cast<std::size_t>(encoder.n_ctx()) * encoder.n_state());
  }
  std::printf("mel %.1f ms, encoder (%s) %.1f ms\n", mel_ms, backend->kind().c_str(), enc_ms);
  if (!o.dump_logits.empty() || o.greedy_plain > 0) run_tokens(o, *model, *backend, pool, enc);
  if (!o.dump_words.empty()) {
    // As transcribe()'s segment_size: the window's frames of real audio (n_samples // 160 in all).
    const int64_t content = static_cast<int64_t>(wav.samples.size()) / kMelHop;
    const int num_frames = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(kMelWindowFrames, content - offset_frames)));
    run_words(o, *model, *backend, pool, enc, num_frames);
  }
  return 0;
}

}  // namespace npw
