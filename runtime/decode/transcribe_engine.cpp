// OpenAI's transcribe() loop over a WindowModel; see transcribe_engine.h.
#include "decode/transcribe_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "decode/hallucination_filter.h"
#include "decode/language.h"
#include "decode/suppress_tokens.h"
#include "decode/text_metrics.h"
#include "decode/word_timing.h"
#include "model/model.h"
#include "util/aligned_buffer.h"
#include "util/cancel.h"
#include "util/error.h"

namespace npw {

namespace {

constexpr int64_t kWindowFrames = kMelWindowFrames;  // 3000
constexpr double kSampleRate = kMelSampleRate;

class StageTimer {
 public:
  explicit StageTimer(double& acc) : acc_(acc), t0_(std::chrono::steady_clock::now()) {}
  ~StageTimer() { acc_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }

 private:
  double& acc_;
  std::chrono::steady_clock::time_point t0_;
};

// Keeps a window's segment (times already absolute) inside the audio. The model may place timestamps past the end
// of the audio it heard (the window is zero-padded to 30 s): a segment that starts at or after the
// end describes nothing and is dropped (false); one that straddles the end is cut there, so every
// segment kept has a positive duration; its words are kept inside it.
bool fit_to_audio(Segment& s, double duration) {
  s.end = std::min(s.end, duration);
  if (!(s.start < duration && s.end > s.start)) return false;
  keep_words_inside(s, duration);
  return true;
}

}  // namespace

TranscribeEngine::TranscribeEngine(const Model& model, const Options& options, std::unique_ptr<WindowModel> window_model,
                                   ThreadPool* pool)
    : model_(model),
      options_(options),
      wm_(std::move(window_model)),
      tokenizer_(model.vocab()),
      rng_(options.seed),
      buffers_(static_cast<std::size_t>(model.hparams().n_mels) * kWindowFrames,
               static_cast<std::size_t>(model.hparams().n_audio_ctx) * model.hparams().n_audio_state) {
  options_.validate();
  pool_ = pool;
  const float* filters = model.mel_filters().data();
  const int n_mels = model.hparams().n_mels;
  if (options_.mel_on_device) {
    if (wm_) mel_ = wm_->device_mel(filters, n_mels);
    if (!mel_) {
      warnings_.push_back("option mel_on_device: the backend " + (wm_ ? wm_->backend_kind() : std::string("in use")) +
                          " has no accelerator; the log-mel runs on the CPU FFT");
    }
  }
  if (!mel_) mel_ = std::make_unique<MelSpectrogram>(filters, n_mels, pool);
  const Vocab& v = model_.vocab();
  fixed_language_ = canonical_language(options_.language);
  if (!v.is_multilingual()) {
    // English-only models: always English, always transcribe (OpenAI); say so once per setting
    // that asked for something else.
    if (fixed_language_ != "auto" && fixed_language_ != "en") {
      warnings_.push_back("option language: '" + fixed_language_ + "' cannot be used with the English-only model " +
                          model_.describe() + "; transcribing as English");
    }
    if (options_.translate) {
      warnings_.push_back("option translate: the English-only model " + model_.describe() +
                          " cannot translate; transcribing instead");
    }
    fixed_language_ = "en";
  } else if (fixed_language_ != "auto" && v.language_token(fixed_language_) < 0) {
    throw Error(ErrorKind::InvalidArgument, "option language: '" + fixed_language_ + "' is not a language of " +
                                                model_.describe());
  }
  language_ = fixed_language_;
  suppress_ = suppress_token_ids(options_.suppress_tokens, v);
  blank_ = blank_tokens(v);
  rules_.eot = v.eot();
  rules_.no_timestamps = v.no_timestamps();
  rules_.timestamp_begin = v.timestamp_begin();
  rules_.max_initial_timestamp_index =
      max_initial_timestamp_index(options_.max_initial_timestamp, 30.0 / model_.hparams().n_audio_ctx);
  const std::string stripped = python_strip(options_.initial_prompt);
  if (!stripped.empty()) initial_prompt_tokens_ = tokenizer_.encode(" " + stripped);
  // The heads are resolved even with word timestamps off, so a bad setting is reported at once.
  heads_ = resolve_alignment_heads(options_.alignment_heads, model_.hparams());
  if (options_.word_timestamps) {
    if (!wm_->alignment())
      throw Error(ErrorKind::Unsupported, "option word_timestamps: this backend cannot give cross-attention weights");
    aligner_ = std::make_unique<WordAligner>(heads_, 7, 1.0f, pool_);
    wm_->alignment()->use_heads(heads_);
    // OpenAI warns the same: the alignment heads follow the spoken audio, not a translation of it.
    if (options_.translate && v.is_multilingual())
      warnings_.push_back("option word_timestamps: word times of a translation may not be reliable");
  }
  stats_.backend = wm_->backend_kind();
  reset();
}

void TranscribeEngine::set_cancel(const std::atomic<bool>* flag) {
  cancel_ = flag;
  wm_->set_cancel(flag);
}

void TranscribeEngine::reset() {
  prompt_.clear();
  prompt_.all_tokens = initial_prompt_tokens_;
  prompt_.carried = options_.carry_initial_prompt ? initial_prompt_tokens_.size() : 0;
  language_ = fixed_language_;
  language_probs_.clear();
  rng_.seed(options_.seed);
  last_speech_timestamp_ = 0.0;
}

std::vector<int> TranscribeEngine::sot_sequence() const {
  const Vocab& v = model_.vocab();
  std::vector<int> seq = {v.sot()};
  if (v.is_multilingual()) {
    seq.push_back(v.language_token(language_));
    seq.push_back(options_.translate ? v.translate() : v.transcribe());
  }
  if (!options_.timestamps) seq.push_back(v.no_timestamps());
  return seq;
}

void TranscribeEngine::encode(const float* mel) {
  StageTimer t(stats_.encoder_seconds);
  wm_->encode(mel, buffers_.encoder_output());
}

void TranscribeEngine::detect_language(const float* mel) {
  const Vocab& v = model_.vocab();
  encode(mel);
  const int V = v.n_vocab();
  std::vector<float> logits(static_cast<std::size_t>(V)), sot_logits(static_cast<std::size_t>(V));
  {
    StageTimer t(stats_.decoder_seconds);
    wm_->logits().begin({v.sot()}, 1, 0, sot_logits.data(), logits.data());
  }
  // Softmax over the language tokens only (every other logit is -inf in OpenAI's detect_language).
  const int first = v.sot() + 1;
  const int count = v.num_languages();
  double mx = -INFINITY;
  for (int i = 0; i < count; ++i) mx = std::max(mx, static_cast<double>(logits[static_cast<std::size_t>(first + i)]));
  double sum = 0.0;
  for (int i = 0; i < count; ++i) sum += std::exp(static_cast<double>(logits[static_cast<std::size_t>(first + i)]) - mx);
  language_probs_.clear();
  int best = 0;
  for (int i = 0; i < count; ++i) {
    const float lg = logits[static_cast<std::size_t>(first + i)];
    if (lg > logits[static_cast<std::size_t>(first + best)]) best = i;
    language_probs_.emplace_back(v.language_code(first + i), static_cast<float>(std::exp(lg - mx) / sum));
  }
  language_ = v.language_code(first + best);
  std::stable_sort(language_probs_.begin(), language_probs_.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
}

WindowDecode TranscribeEngine::decode_at(float temperature) {
  const Vocab& v = model_.vocab();
  const HParams& hp = model_.hparams();
  DecodeSettings s;
  const std::vector<int> prompt = prompt_.prompt(hp.n_text_ctx);
  if (!prompt.empty()) {
    s.initial_tokens.push_back(v.start_of_prev());
    s.initial_tokens.insert(s.initial_tokens.end(), prompt.begin(), prompt.end());
  }
  s.sot_index = static_cast<int>(s.initial_tokens.size());
  const std::vector<int> sot = sot_sequence();
  s.initial_tokens.insert(s.initial_tokens.end(), sot.begin(), sot.end());
  s.sample_len = hp.n_text_ctx / 2;
  s.n_ctx = hp.n_text_ctx;
  s.eot = v.eot();
  s.no_speech = v.no_speech();
  s.temperature = temperature;
  if (temperature == 0.0f) {
    s.beam_size = options_.beam_size;  // 0: greedy
    s.patience = options_.patience;
    s.best_of = 1;
  } else {
    s.beam_size = 0;
    s.best_of = options_.best_of;
  }
  s.length_penalty = options_.length_penalty;
  s.suppress_blank = options_.suppress_blank;
  s.blank_tokens = blank_;
  s.suppress_tokens = suppress_;
  s.timestamps = options_.timestamps;
  s.rules = rules_;
  s.cancel = cancel_;
  s.pool = pool_;

  // Each rung of the temperature ladder starts here.
  check_cancel(cancel_, "a rung of the temperature ladder");
  WindowDecode d;
  {
    StageTimer t(stats_.decoder_seconds);
    d.outcome = decode_window(wm_->logits(), s, rng_, &decode_ws_);
  }
  stats_.tokens += static_cast<int>(d.outcome.tokens.size());
  // OpenAI's result.text: sampled special tokens (a language, <|notimestamps|>) count as their names.
  d.text = python_strip(tokenizer_.decode_with_specials(d.outcome.tokens));
  d.compression_ratio = compression_ratio(d.text);
  return d;
}

WindowStep TranscribeEngine::run_window(const float* mel, int64_t segment_frames, const WindowPlace& place) {
  check_cancel(cancel_, "the window's start");
  encode(mel);
  const WindowDecode d = decode_with_fallback(options_, [this](float t) { return decode_at(t); });
  ++stats_.windows;
  const int beg = model_.vocab().timestamp_begin();
  const double time_offset = static_cast<double>(place.seek * kMelHop) / kSampleRate;
  WordStage words;
  if (aligner_ && (options_.word_timestamps || call_words_)) {
    words = [&](std::vector<Segment>& segments, bool single_timestamp_ending, int64_t& seek_frames) {
      return time_words(segments, single_timestamp_ending, segment_frames, place, seek_frames);
    };
  }
  return finish_window(d, segment_frames, beg, [this](const std::vector<int>& ids) { return tokenizer_.decode(ids); },
                       options_, prompt_, time_offset, words, keep_unfinished_);
}

bool TranscribeEngine::time_words(std::vector<Segment>& segments, bool single_timestamp_ending, int64_t segment_frames,
                                  const WindowPlace& place, int64_t& seek_frames) {
  const Vocab& v = model_.vocab();
  const double time_offset = static_cast<double>(place.seek * kMelHop) / kSampleRate;
  std::vector<int> text;
  for (const Segment& s : segments)
    for (int t : s.tokens)
      if (t < v.eot()) text.push_back(t);
  AlignmentTokens at;
  at.sot_sequence = {v.sot()};
  if (v.is_multilingual()) {
    at.sot_sequence.push_back(v.language_token(language_));
    at.sot_sequence.push_back(options_.translate ? v.translate() : v.transcribe());
  }
  at.no_timestamps = v.no_timestamps();
  at.eot = v.eot();
  at.language = language_;
  std::vector<Word> alignment;
  {
    StageTimer t(stats_.word_timing_seconds);
    alignment = aligner_->find_alignment(*wm_->alignment(), tokenizer_, at, text, static_cast<int>(segment_frames));
  }
  add_word_timestamps(segments, std::move(alignment), time_offset,
                      WordTimingSettings{options_.prepend_punctuations, options_.append_punctuations}, v.eot(),
                      last_speech_timestamp_);
  WordSeekWindow w;
  w.previous_seek = place.seek;
  w.segment_size = segment_frames;
  w.content_frames = place.content_frames;
  w.time_offset = time_offset;
  w.window_end_time = static_cast<double>((place.seek + kWindowFrames) * kMelHop) / kSampleRate;
  w.segment_duration = static_cast<double>(segment_frames * kMelHop) / kSampleRate;
  w.content_duration = static_cast<double>(place.content_frames * kMelHop) / kSampleRate;
  w.single_timestamp_ending = single_timestamp_ending;
  w.hallucination_silence_threshold = options_.hallucination_silence_threshold;
  w.last_speech_timestamp = last_speech_timestamp_;
  const WordSeek ws = apply_word_seek(segments, place.seek + seek_frames, w);
  // A window always moves on, even where rounding would keep it in place.
  seek_frames = ws.seek > place.seek ? ws.seek - place.seek : segment_frames;
  if (ws.skip) return false;
  double end = 0.0;
  if (last_word_end(segments, end)) last_speech_timestamp_ = end;
  return true;
}

TranscribeResult TranscribeEngine::transcribe(const float* samples, std::size_t n, const SegmentCallback& on_segment) {
  reset();
  const int n_mels = model_.hparams().n_mels;
  const int64_t total_frames = file_mel_frames(static_cast<int64_t>(n));
  // OpenAI clamps the whole input's spectrogram by its global max. It is not kept (an hour of audio
  // is 115 MiB of it): one pass over the audio finds the max, then each window's frames are computed
  // again from the samples they see, clamped alike (the same values bit for bit, for about twice the
  // spectrogram's arithmetic, a few milliseconds a window). The pieces' scratch is 87 KiB at 80 mels
  // for the CPU FFT (a device front end's pieces are a launch's worth).
  AlignedBuffer<float> pieces(MemoryLabel{"stream: log-mel pieces (file transcription)"});
  pieces.resize(static_cast<std::size_t>(n_mels) * static_cast<std::size_t>(mel_->piece_stride()));
  LogMelFrontEnd::FileMelScan scan;
  {
    StageTimer t(stats_.mel_seconds);
    scan = mel_->scan_file_mel(samples, static_cast<int64_t>(n), pieces.data());
  }
  stats_.audio_seconds += static_cast<double>(n) / kSampleRate;
  const int64_t content_frames = total_frames - kWindowFrames;
  const double duration = static_cast<double>(n) / kSampleRate;

  TranscribeResult result;
  if (language_ == "auto") {
    wm_->place(0, std::min(n, static_cast<std::size_t>(kMelWindowSamples)));
    // OpenAI detects on pad_or_trim(mel, 3000): the first 3000 frames of the padded spectrogram.
    {
      StageTimer t(stats_.mel_seconds);
      mel_->file_mel_window(samples, static_cast<int64_t>(n), scan, 0, kWindowFrames, 0.0f, pieces.data(),
                            buffers_.mel());
    }
    detect_language(buffers_.mel());
    result.language_probs = language_probs_;
  }
  result.language = language_;

  // OpenAI's loop over the clips (clip_timestamps; by default one: the whole file).
  const std::vector<std::pair<int64_t, int64_t>> clips = seek_clips(options_.clip_timestamps, content_frames);
  std::size_t clip = 0;
  int64_t seek = clips.front().first;
  while (clip < clips.size()) {
    const auto [clip_start, clip_end] = clips[clip];
    seek = std::max(seek, clip_start);
    if (seek >= clip_end) {
      if (++clip < clips.size()) seek = clips[clip].first;
      continue;
    }
    const int64_t segment_frames = std::min({kWindowFrames, content_frames - seek, clip_end - seek});
    // mel[:, seek:seek+segment_size] zero-padded to 3000 frames (OpenAI's pad_or_trim of the slice).
    {
      StageTimer t(stats_.mel_seconds);
      mel_->file_mel_window(samples, static_cast<int64_t>(n), scan, seek, segment_frames, 0.0f, pieces.data(),
                            buffers_.mel());
    }
    wm_->place(static_cast<std::uint64_t>(seek * kMelHop), static_cast<std::size_t>(segment_frames * kMelHop));
    WindowStep step = run_window(buffers_.mel(), segment_frames, WindowPlace{seek, content_frames});
    for (Segment& s : step.segments) {
      if (!fit_to_audio(s, duration)) continue;
      if (on_segment) on_segment(s);
      result.segments.push_back(std::move(s));
    }
    seek += step.seek_frames;
  }
  return result;
}

WindowResult TranscribeEngine::transcribe_window(const float* samples, std::size_t n, bool final) {
  if (n > static_cast<std::size_t>(kMelWindowSamples)) {
    throw Error(ErrorKind::InvalidArgument, "transcribe_window: " + std::to_string(n) +
                                                " samples is more than one 30 s window (480000)");
  }
  stats_.audio_seconds += static_cast<double>(n) / kSampleRate;
  WindowResult result;
  const double duration = static_cast<double>(n) / kSampleRate;
  std::size_t offset = 0;
  while (offset < n) {
    const std::size_t remaining = n - offset;
    const int64_t segment_frames = mel_frames(static_cast<int64_t>(remaining));
    if (segment_frames == 0) {
      offset = n;  // less than one hop of audio: nothing a window could say about it
      break;
    }
    check_cancel(cancel_, "the mel");
    float* window_mel = buffers_.mel();
    {
      StageTimer t(stats_.mel_seconds);
      mel_->compute_window_mel(samples + offset, static_cast<int64_t>(remaining), window_mel);
    }
    wm_->place(origin_ + offset, remaining);
    if (language_ == "auto") {
      detect_language(window_mel);
    }
    const int64_t seek = static_cast<int64_t>(offset / kMelHop);
    WindowStep step = run_window(window_mel, segment_frames, WindowPlace{seek, seek + segment_frames});
    result.skipped_no_speech = result.skipped_no_speech || step.skipped_no_speech;
    for (Segment& s : step.segments) {
      if (!fit_to_audio(s, duration)) {
        ++result.dropped_past_end;
        continue;
      }
      result.segments.push_back(std::move(s));
    }
    // The whole window used (pairs closed, a single closing timestamp, no timestamps, silence):
    // everything handed in is consumed, including the sub-hop tail the mel could not see.
    offset = step.seek_frames >= segment_frames ? n : offset + static_cast<std::size_t>(step.seek_frames) * kMelHop;
    if (!final) break;
  }
  result.consumed_samples = std::min(offset, n);
  // The next call's times start where this one's consumed audio ends.
  last_speech_timestamp_ -= static_cast<double>(result.consumed_samples) / kSampleRate;
  result.language = language_;
  return result;
}

WindowResult TranscribeEngine::transcribe_with_prompt(const float* samples, std::size_t n,
                                                     const HypothesisOptions& hypothesis) {
  PromptState saved = prompt_;
  const double saved_speech = last_speech_timestamp_;
  const int saved_beam = options_.beam_size;
  const std::vector<float> saved_temperatures = options_.temperatures;
  if (hypothesis.greedy) {
    options_.beam_size = 0;
    options_.temperatures = {0.0f};
  }
  prompt_.clear();
  const std::string stripped = python_strip(hypothesis.prompt);
  if (options_.carry_initial_prompt) {
    // The initial prompt in front, then this hypothesis's text, as the whole-file loop lays them out.
    prompt_.all_tokens = initial_prompt_tokens_;
    prompt_.carried = initial_prompt_tokens_.size();
    if (!stripped.empty()) {
      const std::vector<int> text = tokenizer_.encode(" " + stripped);
      prompt_.all_tokens.insert(prompt_.all_tokens.end(), text.begin(), text.end());
    }
  } else {
    prompt_.all_tokens = stripped.empty() ? initial_prompt_tokens_ : tokenizer_.encode(" " + stripped);
  }
  // The word timing of this call only; the aligner is made once, on the first call that asks.
  call_words_ = hypothesis.word_timestamps && wm_->alignment() != nullptr;
  if (call_words_ && !aligner_) aligner_ = std::make_unique<WordAligner>(heads_, 7, 1.0f, pool_);
  // This call's window is encoded below: its alignment layers are kept exact only if it times words.
  if (call_words_ && !options_.word_timestamps) wm_->alignment()->use_heads(heads_);
  // A hypothesis starts a new time base: no speech of an earlier buffer limits its first word.
  last_speech_timestamp_ = 0.0;
  auto restore = [&] {
    prompt_ = std::move(saved);
    last_speech_timestamp_ = saved_speech;
    if (call_words_ && !options_.word_timestamps) wm_->alignment()->use_heads({});
    call_words_ = false;
    keep_unfinished_ = false;
    origin_ = 0;
    options_.beam_size = saved_beam;
    options_.temperatures = saved_temperatures;
  };
  try {
    // One encode and one decode per hypothesis: the buffer is all in this window, so the text after
    // its last closed segment is kept as the unfinished last segment instead of being decoded again
    // from there (OpenAI's seek, which costs a second encode for the same audio). A live step then
    // costs about the same every time.
    origin_ = hypothesis.stream_sample;
    keep_unfinished_ = true;
    WindowResult r = transcribe_window(samples, n, false);
    restore();
    return r;
  } catch (...) {
    restore();
    throw;
  }
}

}  // namespace npw
