// Property specs, storage and the mapping onto npw::Options (see npuwhisper_props.h for why this is
// its own file). Ranges here are the first line of validation; Options::validate() is the last.
#include "npuwhisper_props.h"

#include <cctype>
#include <cmath>

#include "decode/suppress_tokens.h"
#include "model/vocab.h"
#include "util/error.h"

namespace npwgst {

GType backend_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {BACKEND_AUTO, "Use the NPU when present and working, otherwise the CPU", "auto"},
      {BACKEND_CPU, "CPU, f32 weights (OpenBLAS)", "cpu"},
      {BACKEND_CPU_INT8, "CPU, int8 weights", "cpu-int8"},
      {BACKEND_NPU, "AMD XDNA NPU; an error when there is none", "npu"},
      {BACKEND_NPU_EMULATOR, "The NPU code path on an emulated NPU (CPU; for tests and cost estimates)", "npu-emulator"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstNpuWhisperBackend", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType output_mode_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {OUTPUT_SEGMENTS, "One text buffer per segment (or per caption cue with the max-* properties)", "segments"},
      {OUTPUT_WORDS, "One text buffer per word, timed from its word timestamp", "words"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstNpuWhisperOutput", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

const char* backend_name(Backend b) {
  switch (b) {
    case BACKEND_CPU: return "cpu";
    case BACKEND_CPU_INT8: return "cpu-int8";
    case BACKEND_NPU: return "npu";
    case BACKEND_NPU_EMULATOR: return "npu-emulator";
    case BACKEND_AUTO: break;
  }
  return "auto";
}

void install_properties(GObjectClass* klass) {
  const auto fixed = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const auto live = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  Settings d;

  g_object_class_install_property(klass, PROP_MODEL,
      g_param_spec_string("model", "Model",
          "Path of a whisper.cpp GGML model file (required). Elements naming the same file share one "
          "loaded copy.", nullptr, fixed));
  g_object_class_install_property(klass, PROP_LANGUAGE_CODE,
      g_param_spec_string("language-code", "Language code",
          "Spoken language as an ISO 639-1 code, optionally with a region (\"en\", \"en-US\"), or "
          "\"auto\" to detect it from the first window (English-only models: always en)",
          d.language_code.c_str(), fixed));
  g_object_class_install_property(klass, PROP_TRANSLATE,
      g_param_spec_boolean("translate", "Translate",
          "Translate the speech into English text instead of transcribing it", d.translate, fixed));
  g_object_class_install_property(klass, PROP_BACKEND,
      g_param_spec_enum("backend", "Backend", "Where the encoder and decoder run", backend_get_type(),
          d.backend, fixed));
  g_object_class_install_property(klass, PROP_N_THREADS,
      g_param_spec_int("n-threads", "Threads", "CPU threads for inference (0: all cores)", 0, 256,
          d.n_threads, fixed));
  g_object_class_install_property(klass, PROP_BEAM_SIZE,
      g_param_spec_int("beam-size", "Beam size",
          "Beams of the beam search at temperature 0 (0: greedy decoding)", 0, npw::kMaxBeamSize, d.beam_size, fixed));
  g_object_class_install_property(klass, PROP_BEST_OF,
      g_param_spec_int("best-of", "Best of", "Candidates sampled when falling back to a temperature > 0",
          1, npw::kMaxBestOf, d.best_of, fixed));
  g_object_class_install_property(klass, PROP_TEMPERATURE_FALLBACK,
      g_param_spec_float("temperature-fallback", "Temperature fallback",
          "Temperature increment when a window fails the compression-ratio or log-probability test "
          "(temperatures t, t + x, t + 2x, ... up to 1 from the temperature property t; 0 disables the fallback)",
          0.0f, 1.0f, d.temperature_fallback, fixed));
  g_object_class_install_property(klass, PROP_TEMPERATURE,
      g_param_spec_float("temperature", "Temperature",
          "Temperature of a window's first decoding (0: beam search or greedy; above 0: best-of samples), "
          "then temperature-fallback steps up to 1 (OpenAI's --temperature)",
          0.0f, 1.0f, d.temperature, fixed));
  g_object_class_install_property(klass, PROP_PATIENCE,
      g_param_spec_double("patience", "Patience",
          "Beam search: finished candidates to collect before a window's search stops, as a multiple of "
          "beam-size (OpenAI's patience; 0 means 1, its default)",
          0.0, 16.0, d.patience, fixed));
  g_object_class_install_property(klass, PROP_LENGTH_PENALTY,
      g_param_spec_double("length-penalty", "Length penalty",
          "How finished candidates are ranked: below 0, sum of log-probabilities / length (OpenAI's "
          "default); A in 0..1, / ((5 + length) / 6)^A (Google NMT)",
          -1.0, 1.0, d.length_penalty, fixed));
  g_object_class_install_property(klass, PROP_NO_SPEECH_THRESHOLD,
      g_param_spec_float("no-speech-threshold", "No-speech threshold",
          "A window whose no-speech probability is above this (and whose average log-probability is "
          "below logprob-threshold) is treated as silence; values above 1 disable the test",
          0.0f, 2.0f, d.no_speech_threshold, fixed));
  g_object_class_install_property(klass, PROP_LOGPROB_THRESHOLD,
      g_param_spec_float("logprob-threshold", "Log-probability threshold",
          "Decode again at a higher temperature when the average log-probability of a window's tokens "
          "is below this (very negative values disable the test)",
          -G_MAXFLOAT, 0.0f, d.logprob_threshold, fixed));
  g_object_class_install_property(klass, PROP_COMPRESSION_RATIO_THRESHOLD,
      g_param_spec_float("compression-ratio-threshold", "Compression ratio threshold",
          "Decode again at a higher temperature when the gzip compression ratio of a window's text is "
          "above this (repetitive text; 0 disables the test)",
          0.0f, G_MAXFLOAT, d.compression_ratio_threshold, fixed));
  g_object_class_install_property(klass, PROP_CONDITION_ON_PREVIOUS_TEXT,
      g_param_spec_boolean("condition-on-previous-text", "Condition on previous text",
          "Give the previous window's text to the decoder as a prompt (more consistent, but a window that "
          "went wrong can drag the next ones with it)",
          d.condition_on_previous_text, fixed));
  g_object_class_install_property(klass, PROP_CARRY_INITIAL_PROMPT,
      g_param_spec_boolean("carry-initial-prompt", "Carry initial prompt",
          "Put initial-prompt in front of every window's prompt, not only the first windows' (OpenAI's "
          "carry_initial_prompt): its names and spelling stay in force over a long stream, and the previous "
          "text gets the room it leaves",
          d.carry_initial_prompt, fixed));
  g_object_class_install_property(klass, PROP_INITIAL_PROMPT,
      g_param_spec_string("initial-prompt", "Initial prompt",
          "Text given to the decoder as if it preceded the first window (names, spelling, style)",
          nullptr, fixed));
  g_object_class_install_property(klass, PROP_SUPPRESS_TOKENS,
      g_param_spec_string("suppress-tokens", "Suppress tokens",
          "Token ids never decoded, comma separated (OpenAI's suppress_tokens): -1 stands for the non-speech "
          "symbols (\"#()*+/:;<=>@[]^_`{|}~, music notes, ...); empty: none, not even the task's special tokens "
          "(as OpenAI). Ids past the model's vocabulary stop the element at start",
          d.suppress_tokens.c_str(), fixed));
  g_object_class_install_property(klass, PROP_LATENCY,
      g_param_spec_uint("latency", "Latency",
          "Milliseconds of new audio after which the pending audio is transcribed (200-30000; 0: "
          "automatic). File mode: 30000 (automatic) transcribes whole 30 s windows as OpenAI's "
          "transcribe(); smaller values give earlier captions at the cost of transcribing the same audio "
          "several times; the LATENCY query adds this. Live mode: the update step (200-10000, automatic "
          "1000); the LATENCY query adds 3 steps + 1.5 s, a step being this or, when steps take longer, their "
          "measured time (see \"mode\")",
          0, kMaxLatencyMs, d.latency_ms, live));
  g_object_class_install_property(klass, PROP_WORD_TIMESTAMPS,
      g_param_spec_boolean("word-timestamps", "Word timestamps",
          "Time every word from the decoder's cross-attention (OpenAI's word_timestamps) and add a \"words\" "
          "field (word, start, end, probability) to the NpuWhisperSegmentMeta and the npuwhisper message",
          d.word_timestamps, fixed));
  g_object_class_install_property(klass, PROP_OUTPUT,
      g_param_spec_enum("output", "Output", "What each text buffer holds: a segment (or caption cue) or one word "
          "(words are timed even when word-timestamps is off)", output_mode_get_type(), d.output, fixed));
  g_object_class_install_property(klass, PROP_ALIGNMENT_HEADS,
      g_param_spec_string("alignment-heads", "Alignment heads",
          "Cross-attention heads that time words: auto (OpenAI's preset when the model's dimensions identify "
          "it, else the default), default (every head of the last half of the decoder), a preset name "
          "(tiny.en ... large-v3-turbo) or LAYER:HEAD,...", d.alignment_heads.c_str(), fixed));
  g_object_class_install_property(klass, PROP_MAX_LINE_WIDTH,
      g_param_spec_uint("max-line-width", "Maximum line width",
          "Caption cues from word times: at most this many characters per line (0: no limit; broadcast style: "
          "37-42)", 0, 10000, d.max_line_width, fixed));
  g_object_class_install_property(klass, PROP_MAX_LINE_COUNT,
      g_param_spec_uint("max-line-count", "Maximum line count",
          "Caption cues from word times: at most this many lines per cue (0: no limit; with max-line-width)",
          0, 100, d.max_line_count, fixed));
  g_object_class_install_property(klass, PROP_MAX_WORDS_PER_LINE,
      g_param_spec_uint("max-words-per-line", "Maximum words per cue",
          "Caption cues from word times: at most this many words per cue (0: no limit; no effect with "
          "max-line-width)", 0, 10000, d.max_words_per_line, fixed));
  g_object_class_install_property(klass, PROP_MAX_CUE_DURATION,
      g_param_spec_double("max-cue-duration", "Maximum cue duration",
          "Caption cues from word times: no cue longer than this many seconds (0: no limit; style guides: 6-7)",
          0.0, 3600.0, d.max_cue_duration, fixed));
  g_object_class_install_property(klass, PROP_HALLUCINATION_SILENCE_THRESHOLD,
      g_param_spec_double("hallucination-silence-threshold", "Hallucination silence threshold",
          "OpenAI's hallucination_silence_threshold: around a segment that looks hallucinated (improbable, "
          "too short or too long words), skip silences longer than this many seconds and decode again after "
          "them (0: off; turns word timing on, as it judges words)",
          0.0, 3600.0, d.hallucination_silence_threshold, fixed));
  g_object_class_install_property(klass, PROP_PREPEND_PUNCTUATIONS,
      g_param_spec_string("prepend-punctuations", "Prepend punctuations",
          "Word timing: marks merged into the word that follows them (OpenAI's prepend_punctuations; empty: "
          "none; unset: OpenAI's default)", d.prepend_punctuations.c_str(), fixed));
  g_object_class_install_property(klass, PROP_APPEND_PUNCTUATIONS,
      g_param_spec_string("append-punctuations", "Append punctuations",
          "Word timing: marks merged into the word before them (OpenAI's append_punctuations; empty: none; "
          "unset: OpenAI's default)", d.append_punctuations.c_str(), fixed));
  g_object_class_install_property(klass, PROP_KERNEL_DIR,
      g_param_spec_string("kernel-dir", "NPU kernel directory",
          "Directory of the NPU kernels (xclbins, instruction streams, manifest.txt) for backend=npu/auto; "
          "unset: $NPW_KERNEL_DIR, else the installed default", nullptr, fixed));
  g_object_class_install_property(klass, PROP_MEL_ON_DEVICE,
      g_param_spec_boolean("mel-on-device", "Log-mel on the accelerator",
          "Compute the log-mel as two products (a DFT basis, then the mel filter bank; bf16 on an NPU) on the "
          "backend's accelerator instead of the CPU FFT; with a backend that has none, the FFT is kept and a "
          "warning says so", d.mel_on_device, fixed));
  g_object_class_install_property(klass, PROP_TENSOR_POOL,
      g_param_spec_object("tensor-pool", "Tensor pool",
          "The GstBufferPool holding the log-mel window and the encoder output, created when the input caps "
          "are negotiated (NULL before): one buffer per tensor, held while the stream runs and reused for "
          "every window, returned to the pool on flush and stop",
          GST_TYPE_BUFFER_POOL, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
}

bool is_mutable_while_running(guint prop_id) { return prop_id == PROP_LATENCY; }

std::string normalise_language(const std::string& code) {
  std::string lower;
  for (char c : code) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "auto") return lower;
  // A region or script suffix ("en-US", "zh_Hant") does not change the model's language token.
  std::string base = lower.substr(0, lower.find_first_of("-_"));
  for (const auto& lang : npw::whisper_languages())
    if (base == lang.code) return base;
  return "";
}

bool set_property(Settings& s, guint prop_id, const GValue* value, std::string* why) {
  switch (prop_id) {
    case PROP_MODEL: {
      const char* v = g_value_get_string(value);
      s.model = v ? v : "";
      return true;
    }
    case PROP_LANGUAGE_CODE: {
      const char* v = g_value_get_string(value);
      std::string code = v ? v : "auto";
      if (normalise_language(code).empty()) {
        *why = "\"" + code + "\" is not a language Whisper knows (use \"auto\" or a code like \"en\")";
        return false;
      }
      s.language_code = code;
      return true;
    }
    case PROP_TRANSLATE: s.translate = g_value_get_boolean(value); return true;
    case PROP_BACKEND: s.backend = static_cast<Backend>(g_value_get_enum(value)); return true;
    case PROP_N_THREADS: s.n_threads = g_value_get_int(value); return true;
    case PROP_BEAM_SIZE: s.beam_size = g_value_get_int(value); return true;
    case PROP_BEST_OF: s.best_of = g_value_get_int(value); return true;
    case PROP_TEMPERATURE_FALLBACK: s.temperature_fallback = g_value_get_float(value); return true;
    case PROP_TEMPERATURE: s.temperature = g_value_get_float(value); return true;
    case PROP_PATIENCE:
    case PROP_LENGTH_PENALTY: {
      const double v = g_value_get_double(value);
      if (std::isnan(v)) {  // what GObject's range check lets through on older GLib, and any direct caller
        *why = "must be a number";
        return false;
      }
      (prop_id == PROP_PATIENCE ? s.patience : s.length_penalty) = v;
      return true;
    }
    case PROP_NO_SPEECH_THRESHOLD: s.no_speech_threshold = g_value_get_float(value); return true;
    case PROP_LOGPROB_THRESHOLD: s.logprob_threshold = g_value_get_float(value); return true;
    case PROP_COMPRESSION_RATIO_THRESHOLD: s.compression_ratio_threshold = g_value_get_float(value); return true;
    case PROP_CONDITION_ON_PREVIOUS_TEXT: s.condition_on_previous_text = g_value_get_boolean(value); return true;
    case PROP_CARRY_INITIAL_PROMPT: s.carry_initial_prompt = g_value_get_boolean(value); return true;
    case PROP_INITIAL_PROMPT: {
      const char* v = g_value_get_string(value);
      s.initial_prompt = v ? v : "";
      return true;
    }
    case PROP_SUPPRESS_TOKENS: {
      const char* v = g_value_get_string(value);
      const std::string spec = v ? v : npw::Options().suppress_tokens;
      try {
        npw::parse_suppress_tokens(spec);
      } catch (const npw::Error& e) {
        *why = e.what();
        return false;
      }
      s.suppress_tokens = spec;
      return true;
    }
    case PROP_LATENCY: {
      const guint v = g_value_get_uint(value);
      if (v != 0 && v < kMinLatencyMs) {
        *why = std::to_string(v) + " ms is below the " + std::to_string(kMinLatencyMs) + " ms minimum (0: automatic)";
        return false;
      }
      s.latency_ms = v;
      return true;
    }
    case PROP_WORD_TIMESTAMPS: s.word_timestamps = g_value_get_boolean(value); return true;
    case PROP_OUTPUT: s.output = static_cast<OutputMode>(g_value_get_enum(value)); return true;
    case PROP_ALIGNMENT_HEADS: {
      const char* v = g_value_get_string(value);
      s.alignment_heads = v && *v ? v : "auto";
      return true;
    }
    case PROP_MAX_LINE_WIDTH: s.max_line_width = g_value_get_uint(value); return true;
    case PROP_MAX_LINE_COUNT: s.max_line_count = g_value_get_uint(value); return true;
    case PROP_MAX_WORDS_PER_LINE: s.max_words_per_line = g_value_get_uint(value); return true;
    case PROP_MAX_CUE_DURATION: s.max_cue_duration = g_value_get_double(value); return true;
    case PROP_KERNEL_DIR: {
      const char* v = g_value_get_string(value);
      s.kernel_dir = v ? v : "";
      return true;
    }
    case PROP_HALLUCINATION_SILENCE_THRESHOLD: {
      // GObject checks the range, which NaN slips through.
      const double v = g_value_get_double(value);
      if (!(v >= 0.0 && v <= 3600.0)) {
        *why = "must be a number of seconds in 0..3600 (0: off)";
        return false;
      }
      s.hallucination_silence_threshold = v;
      return true;
    }
    case PROP_PREPEND_PUNCTUATIONS:
    case PROP_APPEND_PUNCTUATIONS: {
      const char* v = g_value_get_string(value);
      if (v && !g_utf8_validate(v, -1, nullptr)) {
        *why = "is not valid UTF-8";
        return false;
      }
      const npw::Options d;
      std::string& field = prop_id == PROP_PREPEND_PUNCTUATIONS ? s.prepend_punctuations : s.append_punctuations;
      field = v ? v : (prop_id == PROP_PREPEND_PUNCTUATIONS ? d.prepend_punctuations : d.append_punctuations);
      return true;
    }
    case PROP_MEL_ON_DEVICE: s.mel_on_device = g_value_get_boolean(value); return true;
    default: break;
  }
  *why = "unknown property";
  return false;
}

void get_property(const Settings& s, guint prop_id, GValue* value) {
  switch (prop_id) {
    case PROP_MODEL: g_value_set_string(value, s.model.empty() ? nullptr : s.model.c_str()); break;
    case PROP_LANGUAGE_CODE: g_value_set_string(value, s.language_code.c_str()); break;
    case PROP_TRANSLATE: g_value_set_boolean(value, s.translate); break;
    case PROP_BACKEND: g_value_set_enum(value, s.backend); break;
    case PROP_N_THREADS: g_value_set_int(value, s.n_threads); break;
    case PROP_BEAM_SIZE: g_value_set_int(value, s.beam_size); break;
    case PROP_BEST_OF: g_value_set_int(value, s.best_of); break;
    case PROP_TEMPERATURE_FALLBACK: g_value_set_float(value, s.temperature_fallback); break;
    case PROP_TEMPERATURE: g_value_set_float(value, s.temperature); break;
    case PROP_PATIENCE: g_value_set_double(value, s.patience); break;
    case PROP_LENGTH_PENALTY: g_value_set_double(value, s.length_penalty); break;
    case PROP_NO_SPEECH_THRESHOLD: g_value_set_float(value, s.no_speech_threshold); break;
    case PROP_LOGPROB_THRESHOLD: g_value_set_float(value, s.logprob_threshold); break;
    case PROP_COMPRESSION_RATIO_THRESHOLD: g_value_set_float(value, s.compression_ratio_threshold); break;
    case PROP_CONDITION_ON_PREVIOUS_TEXT: g_value_set_boolean(value, s.condition_on_previous_text); break;
    case PROP_CARRY_INITIAL_PROMPT: g_value_set_boolean(value, s.carry_initial_prompt); break;
    case PROP_SUPPRESS_TOKENS: g_value_set_string(value, s.suppress_tokens.c_str()); break;
    case PROP_INITIAL_PROMPT:
      g_value_set_string(value, s.initial_prompt.empty() ? nullptr : s.initial_prompt.c_str());
      break;
    case PROP_LATENCY: g_value_set_uint(value, s.latency_ms); break;
    case PROP_WORD_TIMESTAMPS: g_value_set_boolean(value, s.word_timestamps); break;
    case PROP_OUTPUT: g_value_set_enum(value, s.output); break;
    case PROP_ALIGNMENT_HEADS: g_value_set_string(value, s.alignment_heads.c_str()); break;
    case PROP_MAX_LINE_WIDTH: g_value_set_uint(value, s.max_line_width); break;
    case PROP_MAX_LINE_COUNT: g_value_set_uint(value, s.max_line_count); break;
    case PROP_MAX_WORDS_PER_LINE: g_value_set_uint(value, s.max_words_per_line); break;
    case PROP_MAX_CUE_DURATION: g_value_set_double(value, s.max_cue_duration); break;
    case PROP_KERNEL_DIR: g_value_set_string(value, s.kernel_dir.empty() ? nullptr : s.kernel_dir.c_str()); break;
    case PROP_HALLUCINATION_SILENCE_THRESHOLD: g_value_set_double(value, s.hallucination_silence_threshold); break;
    case PROP_PREPEND_PUNCTUATIONS: g_value_set_string(value, s.prepend_punctuations.c_str()); break;
    case PROP_APPEND_PUNCTUATIONS: g_value_set_string(value, s.append_punctuations.c_str()); break;
    case PROP_MEL_ON_DEVICE: g_value_set_boolean(value, s.mel_on_device); break;
    default: break;
  }
}

npw::Options to_options(const Settings& s) {
  npw::Options o;
  o.language = normalise_language(s.language_code);
  o.translate = s.translate;
  o.backend = backend_name(s.backend);
  o.kernel_dir = s.kernel_dir;
  o.mel_on_device = s.mel_on_device;
  o.n_threads = s.n_threads;
  o.beam_size = s.beam_size;
  o.best_of = s.best_of;
  o.temperatures = npw::temperature_ladder(s.temperature, s.temperature_fallback);
  o.patience = s.patience > 0.0 ? s.patience : 1.0;  // OpenAI: `patience or 1.0`
  o.length_penalty = static_cast<float>(s.length_penalty);
  o.no_speech_threshold = s.no_speech_threshold;
  o.logprob_threshold = s.logprob_threshold;
  o.logprob_threshold_enabled = true;
  o.compression_ratio_threshold = s.compression_ratio_threshold;
  o.condition_on_previous_text = s.condition_on_previous_text;
  o.initial_prompt = s.initial_prompt;
  o.carry_initial_prompt = s.carry_initial_prompt;
  o.suppress_tokens = s.suppress_tokens;
  const CaptionSettings c = to_caption_settings(s);
  o.word_timestamps = c.words_field || c.words_output || c.cues.any() || s.hallucination_silence_threshold > 0.0;
  o.alignment_heads = s.alignment_heads;
  o.prepend_punctuations = s.prepend_punctuations;
  o.append_punctuations = s.append_punctuations;
  o.hallucination_silence_threshold = s.hallucination_silence_threshold > 0.0
                                          ? static_cast<float>(s.hallucination_silence_threshold)
                                          : -1.0f;
  return o;
}

CaptionSettings to_caption_settings(const Settings& s) {
  CaptionSettings c;
  c.words_field = s.word_timestamps;
  c.words_output = s.output == OUTPUT_WORDS;
  c.cues.max_line_width = static_cast<int>(s.max_line_width);
  c.cues.max_line_count = static_cast<int>(s.max_line_count);
  c.cues.max_words_per_line = static_cast<int>(s.max_words_per_line);
  c.cues.max_cue_duration = s.max_cue_duration;
  return c;
}

}  // namespace npwgst
