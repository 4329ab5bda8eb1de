// The live-captions properties of the element (mode, output shape, voice gate, lateness, the delay
// report) apart from the transcription properties, so that the two sets evolve without touching
// each other. Their ids start at PROP_LIVE_FIRST, above the element's other ids.
#pragma once

#include <gst/gst.h>

#include <string>

namespace npwgst {

enum LivePropId {
  PROP_LIVE_FIRST = 100,
  PROP_MODE = PROP_LIVE_FIRST,
  PROP_LIVE_OUTPUT,
  PROP_PARTIALS,
  PROP_VAD,
  PROP_VAD_AGGRESSIVENESS,
  PROP_VAD_START,
  PROP_VAD_END,
  PROP_VAD_PADDING,
  PROP_LATENESS,
  PROP_LIVE_BUFFER,
  PROP_COMMIT_CONFIDENT,
  PROP_MAX_DELAY,  // read-only: answered from the running stream
  PROP_LIVE_LAST
};

enum Mode { MODE_AUTO, MODE_FILE, MODE_LIVE };
GType mode_get_type();
enum LiveOutput { LIVE_OUTPUT_WORDS, LIVE_OUTPUT_STEPS };
GType live_output_get_type();

constexpr guint kLiveDefaultStepMs = 1000;
constexpr guint kLiveMaxStepMs = 10000;

struct LiveSettings {
  Mode mode = MODE_AUTO;
  LiveOutput output = LIVE_OUTPUT_WORDS;
  bool partials = false;
  bool vad = true;
  bool vad_set = false;  // vad was set explicitly: file mode uses the gate only when set to true
  int vad_aggressiveness = 2;
  guint vad_start_ms = 150;
  guint vad_end_ms = 500;
  guint vad_padding_ms = 200;
  guint lateness_ms = 0;
  guint buffer_ms = 15000;
  bool commit_confident = false;
};

void install_live_properties(GObjectClass* klass);
bool is_live_property(guint prop_id);
bool live_property_mutable_while_running(guint prop_id);
void set_live_property(LiveSettings& s, guint prop_id, const GValue* value);
void get_live_property(const LiveSettings& s, guint prop_id, GValue* value);

// The update step of live mode for a `latency` setting (0: automatic), in ms.
guint live_step_ms(guint latency_setting);
// What the element adds to upstream's latency in live mode, processing included: npw::LiveTiming's
// latency (3 steps + 1.5 s + the voice gate's start delay) + lateness.
GstClockTime live_latency(guint step_ms, const LiveSettings& s);

}  // namespace npwgst
