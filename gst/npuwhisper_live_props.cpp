// See npuwhisper_live_props.h.
#include "npuwhisper_live_props.h"

#include <algorithm>
#include <cmath>

#include "stream/live_timing.h"

namespace npwgst {

GType mode_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {MODE_AUTO, "live when upstream is live (the LATENCY query says so), file otherwise", "auto"},
      {MODE_FILE, "Whisper windows as OpenAI's transcribe(): whole segments, best accuracy", "file"},
      {MODE_LIVE, "words committed as they are agreed on (LocalAgreement-2), within the latency", "live"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstNpuWhisperMode", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType live_output_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {LIVE_OUTPUT_WORDS, "one text buffer per committed word", "words"},
      {LIVE_OUTPUT_STEPS, "one text buffer per update step with the words it committed", "steps"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstNpuWhisperLiveOutput", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

void install_live_properties(GObjectClass* klass) {
  const auto fixed = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const auto live = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  LiveSettings d;
  g_object_class_install_property(klass, PROP_MODE,
      g_param_spec_enum("mode", "Mode",
          "file: transcribe Whisper windows; live: commit words 1-3 s after they are spoken, never "
          "retracted; auto: live when upstream is live",
          mode_get_type(), d.mode, fixed));
  g_object_class_install_property(klass, PROP_LIVE_OUTPUT,
      g_param_spec_enum("live-output", "Live output", "Live mode: a text buffer per word or per update step",
          live_output_get_type(), d.output, fixed));
  g_object_class_install_property(klass, PROP_PARTIALS,
      g_param_spec_boolean("partials", "Partials",
          "Live mode: also push the uncommitted words of each step, marked stable=false in their meta and "
          "flagged GST_BUFFER_FLAG_DELTA_UNIT (consumers that show them must replace them; committed "
          "text follows with stable=true)",
          d.partials, fixed));
  g_object_class_install_property(klass, PROP_VAD,
      g_param_spec_boolean("vad", "Voice activity detection",
          "Run the decoder only while someone speaks (WebRTC VAD); GAP events otherwise. On by default in "
          "live mode; in file mode only when set to true (silent stretches are skipped, their time reported "
          "as skipped-silence-seconds in the statistics)",
          d.vad, fixed));
  g_object_class_install_property(klass, PROP_VAD_AGGRESSIVENESS,
      g_param_spec_int("vad-aggressiveness", "VAD aggressiveness",
          "0: least likely to miss speech .. 3: most likely to call noise silence", 0, 3, d.vad_aggressiveness, fixed));
  g_object_class_install_property(klass, PROP_VAD_START,
      g_param_spec_uint("vad-start", "VAD start", "Milliseconds of speech that start an utterance", 10, 1000,
          d.vad_start_ms, fixed));
  g_object_class_install_property(klass, PROP_VAD_END,
      g_param_spec_uint("vad-end", "VAD end",
          "Milliseconds of silence that end an utterance (its tail is then committed)", 100, 5000, d.vad_end_ms, fixed));
  g_object_class_install_property(klass, PROP_VAD_PADDING,
      g_param_spec_uint("vad-padding", "VAD padding", "Milliseconds of audio kept before the speech start", 0, 1000,
          d.vad_padding_ms, fixed));
  g_object_class_install_property(klass, PROP_LATENESS,
      g_param_spec_uint("lateness", "Lateness",
          "Milliseconds added to the output timestamps (and to the reported latency), as gst-plugins-rs "
          "transcribers do, for sinks that must show captions later than they were spoken",
          0, 60000, d.lateness_ms, live));
  g_object_class_install_property(klass, PROP_LIVE_BUFFER,
      g_param_spec_uint("live-buffer", "Live buffer",
          "Live mode: milliseconds of audio past which the buffer is trimmed at a committed segment end",
          1000, 30000, d.buffer_ms, fixed));
  g_object_class_install_property(klass, PROP_COMMIT_CONFIDENT,
      g_param_spec_boolean("commit-confident", "Commit confident words",
          "Live mode: commit a word of probability >= 0.95 from one hypothesis instead of two", d.commit_confident,
          fixed));
  g_object_class_install_property(klass, PROP_MAX_DELAY,
      g_param_spec_uint64("max-delay", "Maximum delay",
          "Live mode: the largest delay observed between audio arriving and its step's output (ns)", 0,
          G_MAXUINT64, 0, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
}

bool is_live_property(guint id) { return id >= PROP_LIVE_FIRST && id < PROP_LIVE_LAST; }
bool live_property_mutable_while_running(guint id) { return id == PROP_LATENESS; }

void set_live_property(LiveSettings& s, guint id, const GValue* v) {
  switch (id) {
    case PROP_MODE: s.mode = static_cast<Mode>(g_value_get_enum(v)); break;
    case PROP_LIVE_OUTPUT: s.output = static_cast<LiveOutput>(g_value_get_enum(v)); break;
    case PROP_PARTIALS: s.partials = g_value_get_boolean(v); break;
    case PROP_VAD:
      s.vad = g_value_get_boolean(v);
      s.vad_set = true;
      break;
    case PROP_VAD_AGGRESSIVENESS: s.vad_aggressiveness = g_value_get_int(v); break;
    case PROP_VAD_START: s.vad_start_ms = g_value_get_uint(v); break;
    case PROP_VAD_END: s.vad_end_ms = g_value_get_uint(v); break;
    case PROP_VAD_PADDING: s.vad_padding_ms = g_value_get_uint(v); break;
    case PROP_LATENESS: s.lateness_ms = g_value_get_uint(v); break;
    case PROP_LIVE_BUFFER: s.buffer_ms = g_value_get_uint(v); break;
    case PROP_COMMIT_CONFIDENT: s.commit_confident = g_value_get_boolean(v); break;
    default: break;
  }
}

void get_live_property(const LiveSettings& s, guint id, GValue* v) {
  switch (id) {
    case PROP_MODE: g_value_set_enum(v, s.mode); break;
    case PROP_LIVE_OUTPUT: g_value_set_enum(v, s.output); break;
    case PROP_PARTIALS: g_value_set_boolean(v, s.partials); break;
    case PROP_VAD: g_value_set_boolean(v, s.vad); break;
    case PROP_VAD_AGGRESSIVENESS: g_value_set_int(v, s.vad_aggressiveness); break;
    case PROP_VAD_START: g_value_set_uint(v, s.vad_start_ms); break;
    case PROP_VAD_END: g_value_set_uint(v, s.vad_end_ms); break;
    case PROP_VAD_PADDING: g_value_set_uint(v, s.vad_padding_ms); break;
    case PROP_LATENESS: g_value_set_uint(v, s.lateness_ms); break;
    case PROP_LIVE_BUFFER: g_value_set_uint(v, s.buffer_ms); break;
    case PROP_COMMIT_CONFIDENT: g_value_set_boolean(v, s.commit_confident); break;
    default: break;
  }
}

guint live_step_ms(guint latency_setting) {
  if (latency_setting == 0) return kLiveDefaultStepMs;
  return std::min(latency_setting, kLiveMaxStepMs);
}

GstClockTime live_latency(guint step_ms, const LiveSettings& s) {
  const npw::LiveTiming t{step_ms / 1000.0, s.vad ? s.vad_start_ms / 1000.0 : 0.0};
  return static_cast<GstClockTime>(std::llround(t.latency() * 1000.0)) * GST_MSECOND +
         static_cast<GstClockTime>(s.lateness_ms) * GST_MSECOND;
}

}  // namespace npwgst
