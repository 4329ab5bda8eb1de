// Every setting of a transcription, in one plain struct with the defaults of OpenAI's `whisper`
// command, validated in one place. The CLI flags and the element's properties both map onto it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace npw {

// Upper limits of the search widths (each hypothesis costs a KV cache); the element's property
// ranges and the CLI use the same numbers.
constexpr int kMaxBeamSize = 16;
constexpr int kMaxBestOf = 16;

struct Options {
  std::string language = "auto";      // "auto" (detect; English-only models: en), or a code like "en"
  bool translate = false;             // task: translate to English instead of transcribe
  bool timestamps = true;             // false: <|notimestamps|>, one segment per window
  int beam_size = 5;                  // > 0: beam search at temperature 0; 0: greedy
  double patience = 1.0;              // beam patience (OpenAI: None -> 1.0); double as Python's float
  float length_penalty = -1.0f;       // < 0: OpenAI's None (divide by length); else Google NMT alpha
  int best_of = 5;                    // candidates sampled at temperature > 0
  std::vector<float> temperatures = {0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f};  // fallback ladder
  float compression_ratio_threshold = 2.4f;  // <= 0 disables
  float logprob_threshold = -1.0f;           // NaN-free; very negative disables
  bool logprob_threshold_enabled = true;
  float no_speech_threshold = 0.6f;          // probability in [0, 1]; > 1 disables
  bool condition_on_previous_text = true;
  std::string initial_prompt;
  // Put the initial prompt in front of every window's prompt, not only the first windows' (OpenAI's
  // carry_initial_prompt): names and spelling stay in force over a long file; the previous text then
  // gets the room the initial prompt leaves.
  bool carry_initial_prompt = false;
  bool suppress_blank = true;
  std::string suppress_tokens = "-1";        // comma separated ids; "-1" = the default non-speech set
  float max_initial_timestamp = 1.0f;        // seconds
  int n_threads = 0;                         // 0: all cores
  std::string backend = "auto";              // auto, cpu, cpu-int8, npu, npu-emulator
  std::string kernel_dir;                    // NPU kernels; empty: $NPW_KERNEL_DIR, else installed default
  // The log-mel as two products (a DFT basis, then the mel filter bank) on the backend's accelerator
  // (bf16 on an NPU) instead of the CPU FFT; a backend without one keeps the FFT, with a warning.
  bool mel_on_device = false;
  unsigned seed = 0;                         // sampling at temperature > 0

  // Word-level timestamps (OpenAI's word_timestamps): each segment gets its words with times from
  // the decoder's cross-attention, and segment bounds and seeking follow the words.
  bool word_timestamps = false;
  std::string prepend_punctuations = "\"'\u201c\u00bf([{-";  // merged into the following word
  std::string append_punctuations = "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001";  // into the previous
  // Seconds of silence around a likely hallucination that are skipped (needs word_timestamps);
  // < 0: off (OpenAI's None, the default).
  float hallucination_silence_threshold = -1.0f;
  // Cross-attention heads for word timing: "auto" (OpenAI's preset if the model's dimensions
  // identify one, else the default), "default", a preset name, or "LAYER:HEAD,..." (alignment_heads.h).
  std::string alignment_heads = "auto";

  // Whole-file transcription only: the stretches to transcribe, "START,END,START,END,..." in seconds
  // (OpenAI's clip_timestamps; an odd count ends at the end of the audio; "0": all of it).
  std::string clip_timestamps = "0";

  // Throws npw::Error(InvalidArgument) naming the first invalid field and why.
  void validate() const;
};

// clip_timestamps as OpenAI's transcribe() turns them into mel frames: each time rounded (halves to
// even) at 100 frames a second, an odd count closed by content_frames, pairs of [start, end). A
// stretch is cut at content_frames (where Python would decode empty windows for ever). Throws
// npw::Error(InvalidArgument) naming clip_timestamps for a value that is not a number >= 0.
std::vector<std::pair<int64_t, int64_t>> seek_clips(const std::string& clip_timestamps, int64_t content_frames);

// OpenAI's fallback ladder: np.arange(start, 1 + 1e-6, increment) (the command's --temperature and
// --temperature_increment_on_fallback), or just `start` when increment <= 0. Counted in steps so it
// does not drift; a ladder longer than validate() allows is cut one past that limit, so validate()
// still refuses it.
std::vector<float> temperature_ladder(double start, double increment);

}  // namespace npw
