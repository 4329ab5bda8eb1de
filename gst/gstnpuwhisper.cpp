// See gstnpuwhisper.h. State is grouped by the lock that guards it: settings under the object lock
// (GST_OBJECT_LOCK), the model/stream/worker set up and torn down only in change_state while no data
// flows, and everything per-stream owned by the worker thread (Stream). No C++ exception leaves a
// callback of this file: every call into the runtime is inside try/catch.
#include "gstnpuwhisper.h"

#include <gst/audio/audio.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <memory>
#include <string>

#include "decode/transcriber.h"
#include "model/model.h"
#include "npuwhisper_live_props.h"
#include "npuwhisper_meta.h"
#include "npuwhisper_props.h"
#include "npuwhisper_stream.h"
#include "npuwhisper_teardown.h"
#include "npuwhisper_tensor_pool.h"
#include "npuwhisper_worker.h"
#include "util/error.h"
#include "util/heap_release.h"

GST_DEBUG_CATEGORY(npuwhisper_debug);
#define GST_CAT_DEFAULT npuwhisper_debug

namespace {

constexpr int kRate = 16000;
// Audio the streaming thread may queue ahead of the worker: one window. Beyond it upstream waits,
// which bounds memory on fast (file) sources; a live source at real time never gets there unless
// inference is slower than real time.
constexpr std::size_t kMaxQueuedBytes = 30 * kRate * sizeof(float);

struct ElementState {
  // object lock
  npwgst::Settings settings;
  bool running = false;  // between READY->PAUSED and PAUSED->READY: fixed properties are locked
  std::atomic<guint> latency_ms{npwgst::kDefaultLatencyMs};
  npwgst::LiveSettings live;              // object lock
  std::atomic<guint> lateness_ms{0};      // mirrors live.lateness_ms for the worker
  std::atomic<guint64> max_delay{0};      // the read-only "max-delay"
  // Live mode: the step the announced latency allows for (ms; 0 until a stream measured its steps to
  // be slower than `latency`), see runtime/stream/step_allowance.h. Grows only, reset at start.
  std::atomic<guint> step_allowance_ms{0};
  std::atomic<bool> upstream_live{false};  // from the LATENCY query at caps time
  // Values refused while stopped, by property, until a valid value replaces them: a refusal posted
  // before the element is in a bin reaches nobody (gst-launch sets properties first), so start()
  // fails with it instead of running with a setting the user did not ask for.
  std::map<guint, std::string> refused;

  // the mel/encoder tensor pool: configured by the stream at caps negotiation, cleared at stop;
  // lives as long as the element so that the "tensor-pool" property can read it from any thread
  npwgst::TensorPool tensors;

  // set up / torn down in change_state only; destroyed worker first (it calls into stream)
  std::shared_ptr<const npw::Model> model;
  std::unique_ptr<npwgst::Stream> stream;
  std::unique_ptr<npwgst::Worker> worker;
  // Frees the stream, the tensors and the model of the last stop in the background; declared last so
  // that it is joined before the members it uses are destroyed.
  npwgst::Teardown teardown;
};

}  // namespace

struct _GstNpuWhisper {
  GstElement parent;
  GstPad* sinkpad;
  GstPad* srcpad;
  ElementState* st;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("audio/x-raw, format = (string) { F32LE, S16LE }, rate = (int) 16000, "
                    "channels = (int) 1, layout = (string) interleaved"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("text/x-raw, format = (string) utf8"));

#define gst_npu_whisper_parent_class parent_class
G_DEFINE_TYPE(GstNpuWhisper, gst_npu_whisper, GST_TYPE_ELEMENT)
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(npuwhisper, "npuwhisper", GST_RANK_NONE, GST_TYPE_NPU_WHISPER,
    GST_DEBUG_CATEGORY_INIT(npuwhisper_debug, "npuwhisper", 0, "Whisper speech-to-text");
    npwgst::segment_meta_register());

// --- errors ---------------------------------------------------------------------------------

static void post_runtime_error(GstNpuWhisper* self, const npw::Error& e, const std::string& model) {
  const std::string what = e.what();
  switch (e.kind()) {
    case npw::ErrorKind::Io:
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Could not read Whisper model \"%s\": %s", model.c_str(), what.c_str()),
                        ("%s", npw::error_kind_name(e.kind())));
      break;
    case npw::ErrorKind::Format:
    case npw::ErrorKind::Unsupported:
      GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Invalid Whisper model \"%s\": %s", model.c_str(), what.c_str()),
                        ("%s", npw::error_kind_name(e.kind())));
      break;
    case npw::ErrorKind::Unavailable:
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("Backend not available: %s", what.c_str()),
                        ("model \"%s\"", model.c_str()));
      break;
    case npw::ErrorKind::InvalidArgument:
      GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS, ("Invalid setting: %s", what.c_str()), ("model \"%s\"", model.c_str()));
      break;
    case npw::ErrorKind::Internal:
      GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("Internal error: %s", what.c_str()), ("model \"%s\"", model.c_str()));
      break;
    case npw::ErrorKind::Cancelled:
      GST_DEBUG_OBJECT(self, "cancelled while starting");  // the element was being stopped: not an error
      break;
  }
}

// --- start / stop ---------------------------------------------------------------------------

static void post_progress(GstNpuWhisper* self, GstProgressType type, const std::string& text) {
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_progress(GST_OBJECT(self), type, "model-load", text.c_str()));
}

static gboolean start(GstNpuWhisper* self) {
  ElementState* st = self->st;
  st->teardown.wait();  // the last stop's stream, tensors and model are gone before new ones come
  GST_OBJECT_LOCK(self);
  const npwgst::Settings settings = st->settings;
  const npwgst::LiveSettings live = st->live;
  const std::map<guint, std::string> refused = st->refused;
  st->running = true;
  st->max_delay = 0;
  st->step_allowance_ms = 0;
  st->upstream_live = false;
  GST_OBJECT_UNLOCK(self);

  if (!refused.empty()) {
    const std::string& why = refused.begin()->second;
    GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS, ("Invalid setting: %s", why.c_str()),
                      ("%" G_GSIZE_FORMAT " refused value(s); set a valid value or leave the default", refused.size()));
    return FALSE;
  }

  if (settings.model.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No Whisper model given"),
                      ("set the \"model\" property to a whisper.cpp GGML file"));
    return FALSE;
  }
  post_progress(self, GST_PROGRESS_TYPE_START, "Loading Whisper model " + settings.model);
  try {
    npw::Options options = npwgst::to_options(settings);
    options.validate();
    st->model = npw::ModelCache::instance().get(settings.model);
    auto transcriber = std::make_unique<npw::Transcriber>(st->model, options);
    const std::string note = transcriber->backend_note();
    const std::string kind = transcriber->stats().backend;
    // backend=auto on a machine without an NPU is the normal case, not a fault: one INFO message
    // names what was missing. Only an NPU that is there but unusable (kernels missing, self-test
    // failed) is a WARNING.
    if (!note.empty() && transcriber->backend_note_is_warning()) {
      GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s", note.c_str()), (nullptr));
    } else if (!note.empty()) {
      GST_ELEMENT_INFO(self, RESOURCE, SETTINGS, ("%s", note.c_str()), (nullptr));
    } else if (settings.backend == npwgst::BACKEND_AUTO && kind.rfind("npu", 0) != 0) {
      // The runtime says nothing when no accelerator is even registered (a build without the XRT
      // module's loader).
      GST_ELEMENT_INFO(self, RESOURCE, SETTINGS,
                       ("backend=auto: this build has no AMD XDNA NPU backend; using the CPU (%s)", kind.c_str()),
                       (nullptr));
    }
    for (const std::string& w : st->model->warnings())
      GST_ELEMENT_WARNING(self, RESOURCE, READ, ("%s", w.c_str()), ("model \"%s\"", settings.model.c_str()));
    for (const std::string& w : transcriber->warnings())
      GST_ELEMENT_WARNING(self, LIBRARY, SETTINGS, ("%s", w.c_str()), ("model \"%s\"", settings.model.c_str()));
    GST_INFO_OBJECT(self, "model %s, backend %s", st->model->describe().c_str(), transcriber->stats().backend.c_str());
    st->stream = std::make_unique<npwgst::Stream>(GST_ELEMENT(self), self->srcpad, std::move(transcriber), &st->latency_ms,
                                                  st->tensors);
    st->stream->set_captions(npwgst::to_caption_settings(settings));
  } catch (const npw::Error& e) {
    post_runtime_error(self, e, settings.model);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("Could not start: %s", e.what()), ("model \"%s\"", settings.model.c_str()));
  }
  if (!st->stream) {
    st->model.reset();
    post_progress(self, GST_PROGRESS_TYPE_ERROR, "Could not load Whisper model " + settings.model);
    return FALSE;
  }
  npwgst::Stream* stream = st->stream.get();
  st->worker = std::make_unique<npwgst::Worker>(
      [stream](GstBuffer* buffer, GstEvent* event) {
        if (buffer) stream->handle_buffer(buffer);
        if (event) stream->handle_event(event);
      },
      kMaxQueuedBytes);
  npwgst::LiveConfig lc;
  lc.settings = live;
  lc.latency_ms = &st->latency_ms;
  lc.lateness_ms = &st->lateness_ms;
  lc.max_delay = &st->max_delay;
  lc.step_allowance_ms = &st->step_allowance_ms;
  npwgst::Worker* worker = st->worker.get();
  lc.pending_bytes = [worker]() { return worker->queued_bytes(); };
  lc.upstream_live = &st->upstream_live;
  st->stream->set_live_config(lc, &st->upstream_live);
  post_progress(self, GST_PROGRESS_TYPE_COMPLETE, "Loaded Whisper model " + st->model->describe());
  return TRUE;
}

static void stop(GstNpuWhisper* self) {
  ElementState* st = self->st;
  const gint64 t0 = g_get_monotonic_time();
  st->worker.reset();
  GST_DEBUG_OBJECT(self, "stopped: worker joined in %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
  // The GStreamer side (the stream's buffer pool and tags, the tensor pool) goes now, so that the
  // element holds no GStreamer object once READY; the Transcriber and the model, which hold only
  // memory and threads, are freed after the state change has returned (npuwhisper_teardown.h);
  // start() and finalize wait for that.
  std::unique_ptr<npw::Transcriber> transcriber = st->stream ? st->stream->take_transcriber() : nullptr;
  st->stream.reset();
  st->tensors.clear();
  st->teardown.start([self, transcriber = std::move(transcriber), model = std::move(st->model)]() mutable {
    const gint64 t1 = g_get_monotonic_time();
    transcriber.reset();
    const gint64 t2 = g_get_monotonic_time();
    model.reset();
    const gint64 t3 = g_get_monotonic_time();
    // What was malloc'd goes back to the system too, not only the mapped buffers (heap_release.h).
    npw::release_free_heap();
    GST_DEBUG_OBJECT(self, "teardown: transcriber freed in %.1f ms, model released in %.1f ms, heap trimmed in %.1f ms",
                     (t2 - t1) / 1000.0, (t3 - t2) / 1000.0, (g_get_monotonic_time() - t3) / 1000.0);
  });
  GST_OBJECT_LOCK(self);
  st->running = false;
  GST_OBJECT_UNLOCK(self);
}

static GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
  auto* self = GST_NPU_WHISPER(element);
  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!start(self)) {
        stop(self);
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      // Release a streaming thread waiting for queue space before the pads deactivate, and abandon
      // the window in flight so that neither they nor stop() wait for it.
      if (self->st->worker) {
        self->st->stream->cancel();
        self->st->worker->set_flushing(true);
      }
      break;
    default:
      break;
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) stop(self);
    return ret;
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) stop(self);
  return ret;
}

// --- data and events ------------------------------------------------------------------------

static GstFlowReturn sink_chain(GstPad*, GstObject* parent, GstBuffer* buffer) {
  auto* self = GST_NPU_WHISPER(parent);
  ElementState* st = self->st;
  if (!st->worker || !st->worker->push_buffer(buffer)) {
    if (!st->worker) gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }
  return st->stream->flow();
}

static bool caps_supported(GstCaps* caps) {
  GstAudioInfo info;
  if (!gst_audio_info_from_caps(&info, caps)) return false;
  const GstAudioFormat f = GST_AUDIO_INFO_FORMAT(&info);
  return (f == GST_AUDIO_FORMAT_F32LE || f == GST_AUDIO_FORMAT_S16LE) && GST_AUDIO_INFO_RATE(&info) == kRate &&
         GST_AUDIO_INFO_CHANNELS(&info) == 1 && GST_AUDIO_INFO_LAYOUT(&info) == GST_AUDIO_LAYOUT_INTERLEAVED;
}

static gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  auto* self = GST_NPU_WHISPER(parent);
  ElementState* st = self->st;
  if (!st->worker) return gst_pad_event_default(pad, parent, event);

  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START:
      // The window in flight is abandoned (a seek must not wait for it); FLUSH_STOP resets.
      st->stream->cancel();
      st->worker->set_flushing(true);
      return gst_pad_push_event(self->srcpad, event);
    case GST_EVENT_FLUSH_STOP:
      st->worker->wait_idle();
      st->stream->reset();
      st->worker->set_flushing(false);
      return gst_pad_push_event(self->srcpad, event);
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      if (!caps_supported(caps)) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                          ("npuwhisper needs 16 kHz mono F32LE or S16LE audio (put audioconvert ! audioresample "
                           "in front)"),
                          ("got %" GST_PTR_FORMAT, caps));
        gst_event_unref(event);
        return FALSE;
      }
      {
        // mode=auto follows upstream: a live source answers the LATENCY query with live=TRUE.
        GstQuery* q = gst_query_new_latency();
        gboolean live = FALSE;
        if (gst_pad_peer_query(pad, q)) gst_query_parse_latency(q, &live, nullptr, nullptr);
        gst_query_unref(q);
        st->upstream_live = live;
      }
      return st->worker->push_event(event);
    }
    case GST_EVENT_EOS: {
      const bool queued = st->worker->push_event(event);
      // The partial window is transcribed and EOS forwarded before EOS returns upstream.
      st->worker->wait_idle();
      return queued;
    }
    default:
      if (GST_EVENT_IS_SERIALIZED(event)) return st->worker->push_event(event);
      return gst_pad_event_default(pad, parent, event);
  }
}

// --- queries --------------------------------------------------------------------------------

static gboolean sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  auto* self = GST_NPU_WHISPER(parent);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_ACCEPT_CAPS: {
      GstCaps* caps = nullptr;
      gst_query_parse_accept_caps(query, &caps);
      GstCaps* templ = gst_pad_get_pad_template_caps(pad);
      const gboolean ok = gst_caps_is_subset(caps, templ);
      gst_caps_unref(templ);
      if (!ok)
        GST_WARNING_OBJECT(self, "refusing %" GST_PTR_FORMAT ": npuwhisper needs 16 kHz mono F32LE or S16LE", caps);
      gst_query_set_accept_caps_result(query, ok);
      return TRUE;
    }
    case GST_QUERY_ALLOCATION: {
      // Alignment only, deliberately no pool: raw audio buffers have no fixed size, and upstream
      // base classes fill a proposed pool's buffers without checking their size (audioconvert then
      // truncates its output to the pool's size; audiotestsrc fails). And the window accumulator
      // keeps upstream buffers referenced for up to a window, so a pool sized for the worst case
      // would pin 30 s worth of oversized buffers. The pool that matters is the window pool.
      GstAllocationParams params;
      gst_allocation_params_init(&params);
      params.align = 63;
      gst_query_add_allocation_param(query, nullptr, &params);
      return TRUE;
    }
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

static gboolean src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  auto* self = GST_NPU_WHISPER(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY) return gst_pad_query_default(pad, parent, query);

  gboolean live = FALSE;
  GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
  if (gst_pad_peer_query(self->sinkpad, query)) {
    gst_query_parse_latency(query, &live, &min, &max);
  } else {
    // Nothing upstream answers yet (e.g. PAUSED before data, or unlinked): our own latency stands.
    GST_DEBUG_OBJECT(self, "upstream latency unknown; reporting our own");
  }
  GST_OBJECT_LOCK(self);
  const npwgst::LiveSettings ls = self->st->live;
  GST_OBJECT_UNLOCK(self);
  const guint latency = self->st->latency_ms.load();
  const bool live_mode = ls.mode == npwgst::MODE_LIVE || (ls.mode == npwgst::MODE_AUTO && live);
  // File mode: a step of audio (a window by default). Live mode: see live_latency(), with the step
  // raised to what this stream measured its steps to take.
  const guint step_ms = std::max(npwgst::live_step_ms(latency), self->st->step_allowance_ms.load());
  const GstClockTime own = live_mode ? npwgst::live_latency(step_ms, ls)
                                     : static_cast<GstClockTime>(latency ? latency : npwgst::kFileLatencyMs) * GST_MSECOND +
                                           static_cast<GstClockTime>(ls.lateness_ms) * GST_MSECOND;
  min += own;
  // We hold up to a window plus the queue, so we can absorb that much more than upstream.
  if (GST_CLOCK_TIME_IS_VALID(max)) max += own + gst_util_uint64_scale_int(kMaxQueuedBytes / sizeof(float), GST_SECOND, kRate);
  gst_query_set_latency(query, live, min, max);
  GST_DEBUG_OBJECT(self, "latency: live %d min %" GST_TIME_FORMAT " max %" GST_TIME_FORMAT, live, GST_TIME_ARGS(min),
                   GST_TIME_ARGS(max));
  return TRUE;
}

// --- properties -----------------------------------------------------------------------------

static void set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_NPU_WHISPER(object);
  ElementState* st = self->st;
  if (npwgst::is_live_property(prop_id)) {
    GST_OBJECT_LOCK(self);
    const bool refused = st->running && !npwgst::live_property_mutable_while_running(prop_id);
    if (!refused) npwgst::set_live_property(st->live, prop_id, value);
    st->lateness_ms = st->live.lateness_ms;
    const bool running = st->running;
    GST_OBJECT_UNLOCK(self);
    if (refused)
      GST_ELEMENT_WARNING(self, LIBRARY, SETTINGS,
                          ("Property \"%s\" cannot change while running; set it in the READY or NULL state", pspec->name),
                          (nullptr));
    else if (prop_id == npwgst::PROP_LATENESS && running)
      gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
    return;
  }
  if (prop_id == npwgst::PROP_0 || prop_id >= npwgst::PROP_LAST) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  std::string why;
  bool refused_running = false;
  bool ok;
  GST_OBJECT_LOCK(self);
  if (st->running && !npwgst::is_mutable_while_running(prop_id)) {
    refused_running = true;
    ok = false;
  } else {
    ok = npwgst::set_property(st->settings, prop_id, value, &why);
    if (ok && prop_id == npwgst::PROP_LATENCY) st->latency_ms = st->settings.latency_ms;
    if (ok) {
      st->refused.erase(prop_id);
    } else {
      gchar* shown = g_strdup_value_contents(value);
      st->refused[prop_id] = std::string("property \"") + pspec->name + "\" = " + shown + " refused: " + why;
      g_free(shown);
    }
  }
  const bool running = st->running;
  GST_OBJECT_UNLOCK(self);

  if (refused_running) {
    GST_WARNING_OBJECT(self, "property \"%s\" cannot change while the element is running; ignored", pspec->name);
    GST_ELEMENT_WARNING(self, LIBRARY, SETTINGS,
                        ("Property \"%s\" cannot change while running; set it in the READY or NULL state", pspec->name),
                        (nullptr));
  } else if (!ok) {
    GST_WARNING_OBJECT(self, "property \"%s\" refused: %s", pspec->name, why.c_str());
    GST_ELEMENT_WARNING(self, LIBRARY, SETTINGS, ("Property \"%s\" refused: %s", pspec->name, why.c_str()), (nullptr));
  } else if (prop_id == npwgst::PROP_LATENCY && running) {
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  }
}

static void get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_NPU_WHISPER(object);
  if (prop_id == npwgst::PROP_MAX_DELAY) {
    g_value_set_uint64(value, self->st->max_delay.load());
    return;
  }
  if (npwgst::is_live_property(prop_id)) {
    GST_OBJECT_LOCK(self);
    npwgst::get_live_property(self->st->live, prop_id, value);
    GST_OBJECT_UNLOCK(self);
    return;
  }
  if (prop_id == npwgst::PROP_0 || prop_id >= npwgst::PROP_LAST) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  if (prop_id == npwgst::PROP_TENSOR_POOL) {
    g_value_take_object(value, self->st->tensors.ref_pool());
    return;
  }
  GST_OBJECT_LOCK(self);
  npwgst::get_property(self->st->settings, prop_id, value);
  GST_OBJECT_UNLOCK(self);
}

// --- GObject --------------------------------------------------------------------------------

static void finalize(GObject* object) {
  auto* self = GST_NPU_WHISPER(object);
  delete self->st;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_npu_whisper_class_init(GstNpuWhisperClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;
  npwgst::install_properties(gobject_class);
  npwgst::install_live_properties(gobject_class);
  gst_type_mark_as_plugin_api(npwgst::mode_get_type(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(npwgst::live_output_get_type(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(npwgst::backend_get_type(), static_cast<GstPluginAPIFlags>(0));

  gst_element_class_set_static_metadata(element_class, "Whisper speech to text", "Audio/Text/Filter",
      "Transcribes or translates 16 kHz mono speech into timed UTF-8 captions with OpenAI's Whisper "
      "(CPU, or an AMD XDNA NPU where present)",
      "npuwhisper developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  element_class->change_state = change_state;
}

static void gst_npu_whisper_init(GstNpuWhisper* self) {
  self->st = new ElementState();
  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, sink_chain);
  gst_pad_set_event_function(self->sinkpad, sink_event);
  gst_pad_set_query_function(self->sinkpad, sink_query);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_use_fixed_caps(self->srcpad);
  gst_pad_set_query_function(self->srcpad, src_query);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}
