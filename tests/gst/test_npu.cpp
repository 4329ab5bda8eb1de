// The element on the NPU code path, emulated (backend=npu-emulator): the same captions as the runtime
// through the same backend, the device's books in the stats message; a device run that times out in
// the last window is an element error with nothing emitted for that window; a kernel that writes
// zeros is refused at start with a resource error naming the self-test; and an unknown kernel
// directory does not matter to the emulator. Faults are injected through NPW_NPU_EMULATOR_FAULT, read
// when the process's emulated device is created (each test runs in its own process).
#include <gst/gst.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend/npu/npu_context.h"
#include "npw_gst_test.h"

using npwtest::data_path;
using npwtest::model_path;

static std::string chain(const std::string& clip, const std::string& props) {
  return "filesrc location=\"" + data_path("audio/" + clip) +
         "\" ! decodebin ! audioconvert ! audioresample ! npuwhisper " + npwtest::kFastProps + " model=\"" +
         model_path() + "\" " + props + " ! appsink name=sink sync=false";
}

static std::vector<std::vector<int>> emitted_tokens(const npwtest::RunResult& r) {
  std::vector<std::vector<int>> out;
  for (const GstStructure* s : r.segment_messages) out.push_back(npwtest::tokens_of(s));
  return out;
}

GST_START_TEST(test_emulator_end_to_end) {
  const std::vector<float> x = npwtest::read_wav(data_path("audio/jfk.wav"));
  const auto want = npwtest::reference_tokens(x, nullptr, "npu-emulator");
  npwtest::RunResult r;
  npwtest::run_pipeline(chain("jfk.wav", "backend=npu-emulator kernel-dir=/nonexistent/dir"), r);
  fail_unless(r.error == nullptr);
  fail_unless(r.eos);
  fail_unless_equals_int(r.warnings.size(), 0);
  fail_unless(!r.captions.empty());
  fail_unless(emitted_tokens(r) == want, "the element's tokens differ from the runtime's through npu-emulator");
  fail_unless(r.stats != nullptr);
  fail_unless_equals_string(gst_structure_get_string(r.stats, "backend"), "npu-emulator");
  fail_unless_equals_string(gst_structure_get_string(r.stats, "device"), "npu-emulator (npu1)");
  guint64 launches = 0, products = 0, to = 0, from = 0, buffers = 0;
  double seconds = 0.0;
  fail_unless(gst_structure_get_uint64(r.stats, "device-launches", &launches));
  fail_unless(gst_structure_get_uint64(r.stats, "device-products", &products));
  fail_unless(gst_structure_get_uint64(r.stats, "device-bytes-to-device", &to));
  fail_unless(gst_structure_get_uint64(r.stats, "device-bytes-from-device", &from));
  fail_unless(gst_structure_get_uint64(r.stats, "device-buffers-allocated", &buffers));
  fail_unless(gst_structure_get_double(r.stats, "device-seconds", &seconds));
  // One window: 2 convolutions + 4 products per encoder layer + keys and values per decoder layer.
  fail_unless(launches >= 2 + 4 * 2 + 2 * 2, "%" G_GUINT64_FORMAT " launches", launches);
  fail_unless_equals_uint64(launches, products);
  fail_unless(to > 0 && from > 0 && seconds > 0.0);
  // One pooled input buffer and two output buffers (a decoder layer's cross keys and values are one batch).
  fail_unless_equals_uint64(buffers, 3);
}
GST_END_TEST;

GST_START_TEST(test_timeout_in_the_last_window) {
  // The runtime through an emulated npu2 counts the launches of the whole clip (self-tests included)
  // without faults; the element's npu1 device, whose launches are the same, then times out a few
  // launches before the end: inside the last window.
  const std::vector<float> x = npwtest::read_wav(data_path("audio/long45.wav"));
  g_setenv("NPW_NPU_EMULATOR_GENERATION", "npu2", TRUE);
  const auto want = npwtest::reference_tokens(x, nullptr, "npu-emulator");
  const uint64_t total = npw::npu::shared_emulator_context(npw::npu::Generation::Npu2)->device().books().launches;
  fail_unless(total > 30, "%llu launches", static_cast<unsigned long long>(total));
  g_unsetenv("NPW_NPU_EMULATOR_GENERATION");
  g_setenv("NPW_NPU_EMULATOR_FAULT", ("timeout@" + std::to_string(total - 3)).c_str(), TRUE);

  npwtest::RunResult r;
  npwtest::run_pipeline(chain("long45.wav", "backend=npu-emulator"), r);
  fail_unless(r.error != nullptr, "no error for a device run that timed out");
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(r.error, &err, &debug);
  fail_unless(strstr(err->message, "did not finish within") != nullptr, "%s", err->message);
  g_error_free(err);
  g_free(debug);
  // What was emitted is the earlier windows' captions exactly, and fewer than the clip has.
  const auto got = emitted_tokens(r);
  fail_unless(got.size() < want.size(), "%zu of %zu captions emitted", got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) fail_unless(got[i] == want[i], "caption %zu differs", i);
}
GST_END_TEST;

GST_START_TEST(test_zeros_kernel_is_refused_at_start) {
  g_setenv("NPW_NPU_EMULATOR_FAULT", "zeros", TRUE);
  GstElement* pipeline = gst_parse_launch(
      ("audiotestsrc ! audio/x-raw,rate=16000,channels=1 ! npuwhisper backend=npu-emulator model=\"" + model_path() +
       "\" ! fakesink")
          .c_str(),
      nullptr);
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(m != nullptr);
  GError* err = nullptr;
  gst_message_parse_error(m, &err, nullptr);
  fail_unless(err->domain == GST_RESOURCE_ERROR);
  fail_unless(strstr(err->message, "self-test") != nullptr, "%s", err->message);
  fail_unless(strstr(err->message, "all zeros") != nullptr, "%s", err->message);
  g_error_free(err);
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_stop_while_the_device_stalls) {
  // The launches of a one-window clip, self-tests included, counted by the runtime in this process
  // (its own emulated device, created before any fault is set).
  const std::vector<float> x = npwtest::read_wav(data_path("audio/jfk.wav"));
  npwtest::reference_tokens(x, nullptr, "npu-emulator");
  const uint64_t first_window = npw::npu::shared_emulator_context(npw::npu::Generation::Npu1)->device().books().launches;
  // The element's device hangs from the third product of long45's second window on, with a time
  // limit of an hour: going to NULL must end the stalled run through the stop flag, or this test
  // hangs until its own time-out.
  g_setenv("NPW_NPU_EMULATOR_FAULT", ("stall@" + std::to_string(first_window + 2)).c_str(), TRUE);
  g_setenv("NPW_NPU_TIMEOUT_MS", "3600000", TRUE);
  GstElement* pipeline = gst_parse_launch(chain("long45.wav", "backend=npu-emulator").c_str(), nullptr);
  fail_unless(pipeline != nullptr);
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  // The first window's captions come before the stall.
  GstMessage* m = gst_bus_timed_pop_filtered(bus, npwtest::wait_time(120),
                                             static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR));
  fail_unless(m != nullptr && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT, "no caption before the stall");
  gst_message_unref(m);
  g_usleep(300000);  // the second window reaches the device and hangs there
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (m) {
    GError* err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    fail("a stop during a stalled run posted an error: %s", err->message);
  }
  gst_object_unref(bus);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_mel_on_device) {
  // The log-mel as two bf16 products on the device: captions, and two more launches per window in
  // the stream's books than without.
  npwtest::RunResult plain, dev;
  npwtest::run_pipeline(chain("jfk.wav", "backend=npu-emulator"), plain);
  npwtest::run_pipeline(chain("jfk.wav", "backend=npu-emulator mel-on-device=true"), dev);
  fail_unless(dev.error == nullptr);
  fail_unless(dev.eos);
  fail_unless_equals_int(dev.warnings.size(), 0);
  fail_unless(!dev.captions.empty());
  guint64 launches_plain = 0, launches_dev = 0;
  fail_unless(gst_structure_get_uint64(plain.stats, "device-launches", &launches_plain));
  fail_unless(gst_structure_get_uint64(dev.stats, "device-launches", &launches_dev));
  fail_unless(launches_dev > launches_plain, "%" G_GUINT64_FORMAT " vs %" G_GUINT64_FORMAT, launches_dev, launches_plain);

  // Without an accelerator: one warning naming the option, and the FFT's captions.
  npwtest::RunResult cpu;
  npwtest::run_pipeline(chain("jfk.wav", "backend=cpu mel-on-device=true"), cpu);
  fail_unless(cpu.error == nullptr);
  fail_unless(!cpu.captions.empty());
  bool named = false;
  for (GstMessage* w : cpu.warnings) {
    GError* err = nullptr;
    gst_message_parse_warning(w, &err, nullptr);
    named = named || (strstr(err->message, "mel_on_device") != nullptr && strstr(err->message, "no accelerator") != nullptr);
    g_error_free(err);
  }
  fail_unless(named, "no warning names mel_on_device (%zu warnings)", cpu.warnings.size());
}
GST_END_TEST;

static Suite* npuwhisper_npu_suite() {
  // Each test's fault plan is read when its process's emulated device is made: in one process for all
  // (CK_FORK=no) the later tests would run without their faults, and a failed one would leave its
  // pipeline running for check's clean-up to wait on. Skipped (meson's 77) rather than hung.
  const char* fork = g_getenv("CK_FORK");
  if (fork && g_ascii_strcasecmp(fork, "no") == 0) {
    g_printerr("test_npu: each test needs a process of its own (its device faults); run it without CK_FORK=no\n");
    std::exit(77);
  }
  Suite* s = suite_create("npuwhisper-npu");
  // The fault plans count launches: no keep-warm launch may slip in while a window decodes on the CPU.
  g_setenv("NPW_NPU_KEEP_WARM_MS", "0", TRUE);
  TCase* tc = tcase_create("npu");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_emulator_end_to_end);
  tcase_add_test(tc, test_timeout_in_the_last_window);
  tcase_add_test(tc, test_zeros_kernel_is_refused_at_start);
  tcase_add_test(tc, test_mel_on_device);
  tcase_add_test(tc, test_stop_while_the_device_stalls);
  return s;
}

GST_CHECK_MAIN(npuwhisper_npu);
