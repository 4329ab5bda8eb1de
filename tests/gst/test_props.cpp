// The element's decoding properties become the runtime's npw::Options as OpenAI's transcribe() reads
// its arguments: temperature starts the fallback ladder, patience 0 is its `patience or 1.0`,
// length-penalty below 0 is its None. Built with the element's sources (npuwhisper_props.cpp), so the
// mapping is checked directly rather than through a transcript of a random-weight model, where a
// different ranking of candidates need not show; the element test checks the same properties through
// GObject and a start that fails naming the setting.
#include <cmath>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "decode/options.h"
#include "npuwhisper_props.h"

namespace {

bool set_double(npwgst::Settings& s, guint prop, double v, std::string* why) {
  GValue value = G_VALUE_INIT;
  g_value_init(&value, G_TYPE_DOUBLE);
  g_value_set_double(&value, v);
  const bool ok = npwgst::set_property(s, prop, &value, why);
  g_value_unset(&value);
  return ok;
}

bool set_float(npwgst::Settings& s, guint prop, float v) {
  GValue value = G_VALUE_INIT;
  g_value_init(&value, G_TYPE_FLOAT);
  g_value_set_float(&value, v);
  std::string why;
  const bool ok = npwgst::set_property(s, prop, &value, &why);
  g_value_unset(&value);
  return ok;
}

}  // namespace

// Untouched, the element decodes with OpenAI's defaults.
GST_START_TEST(test_defaults_are_openai_defaults) {
  const npw::Options o = npwgst::to_options(npwgst::Settings());
  const npw::Options want;
  fail_unless(o.temperatures == want.temperatures);
  fail_unless_equals_float(o.patience, 1.0);
  fail_unless_equals_float(o.length_penalty, want.length_penalty);
  fail_unless(o.length_penalty < 0.0f);
  fail_unless_equals_int(o.beam_size, 5);
  fail_unless_equals_int(o.best_of, 5);
  o.validate();
}
GST_END_TEST;

// temperature is the ladder's start, temperature-fallback its step (np.arange(start, 1 + 1e-6, step)).
GST_START_TEST(test_temperature_starts_the_ladder) {
  npwgst::Settings s;
  fail_unless(set_float(s, npwgst::PROP_TEMPERATURE, 0.4f));
  npw::Options o = npwgst::to_options(s);
  fail_unless(o.temperatures == npw::temperature_ladder(0.4f, 0.2f));
  fail_unless_equals_int(static_cast<int>(o.temperatures.size()), 4);  // 0.4, 0.6, 0.8, 1.0
  fail_unless_equals_float(o.temperatures.front(), 0.4f);
  fail_unless(set_float(s, npwgst::PROP_TEMPERATURE_FALLBACK, 0.0f));
  o = npwgst::to_options(s);
  fail_unless_equals_int(static_cast<int>(o.temperatures.size()), 1);  // no fallback: just the start
  fail_unless_equals_float(o.temperatures.front(), 0.4f);
  o.validate();
}
GST_END_TEST;

// patience and length-penalty reach the beam search as given; 0 patience is OpenAI's default of 1;
// NaN is refused (GObject's range check lets it through) and the value before stays.
GST_START_TEST(test_patience_and_length_penalty) {
  npwgst::Settings s;
  std::string why;
  fail_unless(set_double(s, npwgst::PROP_PATIENCE, 2.0, &why));
  fail_unless(set_double(s, npwgst::PROP_LENGTH_PENALTY, 0.6, &why));
  npw::Options o = npwgst::to_options(s);
  fail_unless_equals_float(o.patience, 2.0);
  fail_unless_equals_float(o.length_penalty, 0.6f);
  o.validate();
  fail_unless(set_double(s, npwgst::PROP_PATIENCE, 0.0, &why));
  fail_unless_equals_float(npwgst::to_options(s).patience, 1.0);
  fail_if(set_double(s, npwgst::PROP_PATIENCE, std::nan(""), &why));
  fail_unless(why.find("number") != std::string::npos, "%s", why.c_str());
  fail_unless_equals_float(s.patience, 0.0);
  fail_if(set_double(s, npwgst::PROP_LENGTH_PENALTY, std::nan(""), &why));
  fail_unless_equals_float(s.length_penalty, 0.6);
  // Too little patience for the beams: the runtime's check names it.
  s.beam_size = 1;
  fail_unless(set_double(s, npwgst::PROP_PATIENCE, 0.4, &why));
  bool refused = false;
  try {
    npwgst::to_options(s).validate();
  } catch (const std::exception& e) {
    refused = std::string(e.what()).find("patience") != std::string::npos;
  }
  fail_unless(refused, "beam-size 1 with patience 0.4 (no finished candidate) was accepted");
}
GST_END_TEST;

static Suite* npuwhisper_props_suite() {
  Suite* s = suite_create("npuwhisper-props");
  TCase* tc = tcase_create("props");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_defaults_are_openai_defaults);
  tcase_add_test(tc, test_temperature_starts_the_ladder);
  tcase_add_test(tc, test_patience_and_length_penalty);
  return s;
}

GST_CHECK_MAIN(npuwhisper_props);
