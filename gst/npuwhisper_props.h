// The element's properties in one place: their specs (names, ranges, OpenAI's defaults, docs), the
// plain Settings struct they are stored in (under the element's object lock), and the mapping onto
// npw::Options. Kept apart from the element so the element file is only GStreamer plumbing and the
// option semantics live next to each other.
#pragma once

#include <gst/gst.h>

#include <string>

#include "decode/caption_cues.h"
#include "decode/options.h"

namespace npwgst {

enum PropId {
  PROP_0,
  PROP_MODEL,
  PROP_LANGUAGE_CODE,
  PROP_TRANSLATE,
  PROP_BACKEND,
  PROP_N_THREADS,
  PROP_BEAM_SIZE,
  PROP_BEST_OF,
  PROP_TEMPERATURE_FALLBACK,
  PROP_NO_SPEECH_THRESHOLD,
  PROP_LOGPROB_THRESHOLD,
  PROP_COMPRESSION_RATIO_THRESHOLD,
  PROP_CONDITION_ON_PREVIOUS_TEXT,
  PROP_INITIAL_PROMPT,
  PROP_LATENCY,
  PROP_TENSOR_POOL,  // read-only, not a setting: the element answers it from its tensor pool
  // word timestamps and caption shaping
  PROP_WORD_TIMESTAMPS,
  PROP_OUTPUT,
  PROP_ALIGNMENT_HEADS,
  PROP_MAX_LINE_WIDTH,
  PROP_MAX_LINE_COUNT,
  PROP_MAX_WORDS_PER_LINE,
  PROP_MAX_CUE_DURATION,
  PROP_KERNEL_DIR,
  PROP_HALLUCINATION_SILENCE_THRESHOLD,
  PROP_PREPEND_PUNCTUATIONS,
  PROP_APPEND_PUNCTUATIONS,
  PROP_MEL_ON_DEVICE,
  PROP_CARRY_INITIAL_PROMPT,
  PROP_SUPPRESS_TOKENS,
  PROP_TEMPERATURE,
  PROP_PATIENCE,
  PROP_LENGTH_PENALTY,
  PROP_LAST
};

// Values of the "backend" enum property; the nick is the runtime's backend name.
enum Backend { BACKEND_AUTO, BACKEND_CPU, BACKEND_CPU_INT8, BACKEND_NPU, BACKEND_NPU_EMULATOR };
GType backend_get_type();

// Values of the "output" enum property: one text buffer per segment (or caption cue), or per word.
enum OutputMode { OUTPUT_SEGMENTS, OUTPUT_WORDS };
GType output_mode_get_type();

// 0 = automatic: a whole 30 s window in file mode (the offline behaviour), kLiveDefaultStepMs in
// live mode (npuwhisper_live_props.h). Values 1..kMinLatencyMs-1 are refused.
constexpr guint kDefaultLatencyMs = 0;
constexpr guint kFileLatencyMs = 30000;
constexpr guint kMinLatencyMs = 200;
constexpr guint kMaxLatencyMs = 30000;

struct Settings {
  std::string model;
  std::string language_code = "auto";  // as the user wrote it (e.g. "en-US")
  bool translate = false;
  Backend backend = BACKEND_AUTO;
  int n_threads = 0;
  int beam_size = 5;
  int best_of = 5;
  float temperature = 0.0f;           // the first decoding's (OpenAI's --temperature)
  float temperature_fallback = 0.2f;  // OpenAI's temperature_increment_on_fallback
  double patience = 1.0;              // beam search: finished candidates per beam (0: OpenAI's None, 1)
  double length_penalty = -1.0;       // < 0: OpenAI's None (sum of log-probabilities / length)
  float no_speech_threshold = 0.6f;
  float logprob_threshold = -1.0f;
  float compression_ratio_threshold = 2.4f;
  bool condition_on_previous_text = true;
  std::string initial_prompt;
  bool carry_initial_prompt = false;
  std::string suppress_tokens = npw::Options().suppress_tokens;  // "-1": OpenAI's non-speech symbols
  guint latency_ms = kDefaultLatencyMs;
  bool word_timestamps = false;
  OutputMode output = OUTPUT_SEGMENTS;
  std::string alignment_heads = "auto";
  guint max_line_width = 0;      // 0: no limit
  guint max_line_count = 0;
  guint max_words_per_line = 0;
  double max_cue_duration = 0.0;  // seconds; 0: no limit
  double hallucination_silence_threshold = 0.0;  // seconds; 0: off (OpenAI's None)
  std::string prepend_punctuations = npw::Options().prepend_punctuations;  // OpenAI's defaults
  std::string append_punctuations = npw::Options().append_punctuations;
  std::string kernel_dir;  // NPU kernels; empty: NPW_KERNEL_DIR, else the installed default
  bool mel_on_device = false;
};

// How the stream turns segments into text buffers (fixed while the element runs).
struct CaptionSettings {
  bool words_field = false;   // word-timestamps: "words" in the meta and the message
  bool words_output = false;  // output=words: one buffer per word
  npw::CueLimits cues;        // output=segments: split segments into cues
};
CaptionSettings to_caption_settings(const Settings& s);

void install_properties(GObjectClass* klass);

// True for properties that may change in PAUSED/PLAYING (they are read per window).
bool is_mutable_while_running(guint prop_id);

// Stores `value` into `s`. Returns false (and sets *why) when the value is refused (bad language code).
bool set_property(Settings& s, guint prop_id, const GValue* value, std::string* why);
void get_property(const Settings& s, guint prop_id, GValue* value);

// "en-US", "EN_us" -> "en"; "auto" stays. Returns "" for something that is not a language code of
// Whisper's list.
std::string normalise_language(const std::string& code);

// Maps the settings onto the runtime's options (validation is Options::validate()'s job). Word
// timing runs when word-timestamps is on, for output=words, for caption shaping and for the
// hallucination-silence-threshold (which judges words).
npw::Options to_options(const Settings& s);

const char* backend_name(Backend b);

}  // namespace npwgst
