// The element's log-mel window and encoder output live in its tensor pool (the read-only
// "tensor-pool" property): no pool before the caps, then an active GstBufferPool of exactly two
// buffers, both held by the stream while it runs (the pool has none to give) and reused for every
// window, handed back on a flush and taken again by the next window, and the pool gone at stop.
// The buffers hold what the runtime computed: after a flush their contents are the last window's
// mel and encoder output, as npw::Transcriber gives them for the same audio on a recording
// provider. Nothing here waits on time: EOS returns once the element has drained.
// Standard headers first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "../runtime/decode/recording_provider.h"
#include "audio/mel.h"
#include "model/model.h"
#include "npw_gst_test.h"

static GstBufferPool* tensor_pool(GstElement* e) {
  GstBufferPool* pool = nullptr;
  g_object_get(e, "tensor-pool", &pool, nullptr);
  return pool;
}

// The buffers the pool can give right now, acquired without waiting (the caller unrefs them).
static std::vector<GstBuffer*> take_free(GstBufferPool* pool) {
  std::vector<GstBuffer*> out;
  GstBufferPoolAcquireParams params = {};
  params.flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT;
  GstBuffer* b = nullptr;
  while (out.size() < 16 && gst_buffer_pool_acquire_buffer(pool, &b, &params) == GST_FLOW_OK) out.push_back(b);
  return out;
}

static void give_back(std::vector<GstBuffer*>& bufs) {
  for (GstBuffer* b : bufs) gst_buffer_unref(b);
  bufs.clear();
}

static GstBuffer* f32_buffer(const float* x, std::size_t n, std::size_t pos) {
  GstBuffer* b = gst_buffer_new_memdup(x, n * sizeof(float));
  GST_BUFFER_PTS(b) = gst_util_uint64_scale_int(pos, GST_SECOND, 16000);
  GST_BUFFER_DURATION(b) = gst_util_uint64_scale_int(n, GST_SECOND, 16000);
  return b;
}

// Whether the first want.size() floats of `buf` are want (within float noise of another thread split).
static bool holds(GstBuffer* buf, const std::vector<float>& want) {
  GstMapInfo map;
  if (want.empty() || !gst_buffer_map(buf, &map, GST_MAP_READ)) return false;
  bool same = map.size >= want.size() * sizeof(float);
  const auto* got = reinterpret_cast<const float*>(map.data);
  for (std::size_t i = 0; same && i < want.size(); ++i) same = std::fabs(got[i] - want[i]) <= 1e-4f;
  gst_buffer_unmap(buf, &map);
  return same;
}

static std::vector<std::vector<int>> caption_tokens(GstHarness* h) {
  std::vector<std::vector<int>> out;
  while (GstBuffer* b = gst_harness_try_pull(h)) {
    GstCustomMeta* meta = gst_buffer_get_custom_meta(b, "NpuWhisperSegmentMeta");
    fail_unless(meta != nullptr);
    out.push_back(npwtest::tokens_of(gst_custom_meta_get_structure(meta)));
    gst_buffer_unref(b);
  }
  while (GstEvent* e = gst_harness_try_pull_event(h)) gst_event_unref(e);
  return out;
}

GST_START_TEST(test_tensors_live_in_the_pool_and_are_reused) {
  const std::vector<float> long45 = npwtest::read_wav(npwtest::data_path("audio/long45.wav"));
  std::vector<float> x = long45;
  x.insert(x.end(), long45.begin(), long45.end());
  x.resize(70 * 16000);  // two full windows at least, then a partial one at EOS
  const auto model = npw::ModelCache::instance().get(npwtest::model_path());
  const npw::HParams& hp = model->hparams();
  const std::size_t mel_bytes = static_cast<std::size_t>(hp.n_mels) * npw::kMelWindowFrames * sizeof(float);
  const std::size_t enc_bytes = static_cast<std::size_t>(hp.n_audio_ctx) * hp.n_audio_state * sizeof(float);

  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  g_object_set(e, "model", npwtest::model_path().c_str(), "beam-size", 0, "temperature-fallback", 0.0f, nullptr);
  fail_unless(tensor_pool(e) == nullptr, "a tensor pool before the element started");
  // GstHarness answers the LATENCY query as a live source; these tests are about file mode.
  gst_util_set_object_arg(G_OBJECT(e), "mode", "file");
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);

  gst_harness_set_src_caps_str(h, "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved");
  for (std::size_t pos = 0; pos < x.size(); pos += 16000)
    fail_unless_equals_int(gst_harness_push(h, f32_buffer(x.data() + pos, 16000, pos)), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));

  GstBufferPool* pool = tensor_pool(h->element);
  fail_unless(pool != nullptr, "no tensor pool after caps negotiation");
  fail_unless(gst_buffer_pool_is_active(pool));
  GstStructure* config = gst_buffer_pool_get_config(pool);
  guint size = 0, min = 0, max = 0;
  fail_unless(gst_buffer_pool_config_get_params(config, nullptr, &size, &min, &max));
  gst_structure_free(config);
  fail_unless_equals_uint64(size, std::max(mel_bytes, enc_bytes));
  fail_unless_equals_int(min, 2);
  fail_unless_equals_int(max, 2);  // never more than the two tensors: nothing made per window
  std::vector<GstBuffer*> free_now = take_free(pool);
  fail_unless_equals_int(free_now.size(), 0);  // both held by the stream after three windows

  npwtest::RecordingProvider reference;
  const auto want = npwtest::reference_tokens(x, &reference);
  fail_unless(caption_tokens(h) == want, "the captions differ from the runtime's");
  fail_unless_equals_int(reference.acquires, 2);  // the reference too computed every window in two buffers

  // A flush gives both back, holding the last window's mel and encoder output.
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  free_now = take_free(pool);
  fail_unless_equals_int(free_now.size(), 2);
  const std::vector<float>& mel = reference.last_released[mel_bytes];
  const std::vector<float>& enc = reference.last_released[enc_bytes];
  const bool mel_first = holds(free_now[0], mel) && holds(free_now[1], enc);
  const bool enc_first = holds(free_now[1], mel) && holds(free_now[0], enc);
  fail_unless(mel_first || enc_first, "the pool's buffers do not hold the runtime's mel window and encoder output");
  give_back(free_now);

  // The next stretch takes them again from the same pool.
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  GstBuffer* b = f32_buffer(long45.data(), 5 * 16000, 0);
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  caption_tokens(h);
  GstBufferPool* again = tensor_pool(h->element);
  fail_unless(again == pool, "a new tensor pool without a new stream");
  gst_object_unref(again);
  free_now = take_free(pool);
  fail_unless_equals_int(free_now.size(), 0);

  // Stop: the pool is deactivated and no longer published.
  fail_unless(gst_element_set_state(h->element, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  fail_unless(tensor_pool(h->element) == nullptr);
  fail_if(gst_buffer_pool_is_active(pool));
  gst_object_unref(pool);
  gst_harness_teardown(h);
}
GST_END_TEST;

static Suite* npuwhisper_tensor_pool_suite() {
  Suite* s = suite_create("npuwhisper-tensor-pool");
  TCase* tc = tcase_create("tensor-pool");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_tensors_live_in_the_pool_and_are_reused);
  return s;
}

GST_CHECK_MAIN(npuwhisper_tensor_pool);
