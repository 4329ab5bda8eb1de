// npuwhisper-stress: the reliability runs that are too long for the test suite (scripts/soak.sh
// drives them): how long stopping and flushing seeks take while a window is being decoded, state
// cycles and seeks by the hundred, several elements on two models started and stopped at random,
// and hours of audio with RSS and per-window time sampled into a CSV. Real pipelines through
// gst_parse_launch with the plugin from GST_PLUGIN_PATH; figures on stdout, one "key: value" a line.
#include <gst/gst.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "audio/wav.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Args {
  std::string mode;
  std::vector<std::string> models;
  std::string audio;
  std::string props;  // extra element properties (default decoding when empty)
  int count = 10;
  double seconds = 60.0;
  double sample_seconds = 60.0;
  int elements = 8;
  bool clocksync = false;
  std::string csv;
  unsigned seed = 1;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "npuwhisper-stress: %s\n"
               "usage: npuwhisper-stress MODE --model FILE [--model FILE2] --audio WAV [options]\n"
               "  stop-seek   COUNT times: play, then time a flushing seek and the stop, each while a window is\n"
               "              being decoded\n"
               "  cycles      COUNT state cycles NULL -> PLAYING -> NULL at random moments\n"
               "  multi       --elements N pipelines over the models, started and stopped at random for --seconds\n"
               "  soak        --seconds of audio (the WAV looped) through one pipeline, at full speed or with\n"
               "              --clocksync at real time; RSS and per-window time every --sample-seconds into --csv\n"
               "options: --count N  --seconds S  --sample-seconds S  --elements N  --clocksync  --csv FILE\n"
               "         --props \"beam-size=0 ...\" (element properties; default: OpenAI's default decoding)  --seed N\n",
               why);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) usage("no mode");
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string f = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value of " + f).c_str());
      return argv[++i];
    };
    if (f == "--model") a.models.push_back(value());
    else if (f == "--audio") a.audio = value();
    else if (f == "--props") a.props = value();
    else if (f == "--count") a.count = std::atoi(value().c_str());
    else if (f == "--seconds") a.seconds = std::atof(value().c_str());
    else if (f == "--sample-seconds") a.sample_seconds = std::atof(value().c_str());
    else if (f == "--elements") a.elements = std::atoi(value().c_str());
    else if (f == "--csv") a.csv = value();
    else if (f == "--seed") a.seed = static_cast<unsigned>(std::atoi(value().c_str()));
    else if (f == "--clocksync") a.clocksync = true;
    else usage(("unknown flag " + f).c_str());
  }
  if (a.models.empty() || a.audio.empty()) usage("--model and --audio are required");
  return a;
}

double rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return 0.0;
}

struct Summary {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  double median() {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  double max() const { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }
};

int g_errors = 0;

// Pops bus messages until `type` (or an error) arrives or `timeout_ms` passes; counts errors.
bool wait_for(GstElement* pipeline, GstMessageType type, int timeout_ms) {
  GstBus* bus = gst_element_get_bus(pipeline);
  bool got = false;
  const auto t0 = Clock::now();
  while (!got && ms_since(t0) < timeout_ms) {
    GstMessage* m = gst_bus_timed_pop_filtered(bus, 50 * GST_MSECOND,
                                               static_cast<GstMessageType>(type | GST_MESSAGE_ERROR));
    if (!m) continue;
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError* e = nullptr;
      gst_message_parse_error(m, &e, nullptr);
      std::fprintf(stderr, "error from %s: %s\n", GST_OBJECT_NAME(GST_MESSAGE_SRC(m)), e->message);
      g_error_free(e);
      ++g_errors;
      gst_message_unref(m);
      break;
    }
    got = true;
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  return got;
}

std::string file_pipeline(const Args& a, const std::string& model) {
  return "filesrc location=\"" + a.audio + "\" ! wavparse ! audioconvert ! audioresample ! npuwhisper name=w model=\"" +
         model + "\" " + a.props + " ! fakesink sync=false";
}

GstElement* launch(const std::string& desc) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(desc.c_str(), &err);
  if (!p || err) {
    std::fprintf(stderr, "cannot build the pipeline: %s\n", err ? err->message : "?");
    std::exit(1);
  }
  return p;
}

// Time to NULL from PLAYING (the call returns once every element has stopped).
double stop_ms(GstElement* p) {
  const auto t0 = Clock::now();
  gst_element_set_state(p, GST_STATE_NULL);
  return ms_since(t0);
}

int stop_seek(const Args& a) {
  std::mt19937 rng(a.seed);
  std::uniform_int_distribution<int> wait_ms(300, 3000);
  Summary seek, preroll, stop;
  for (int i = 0; i < a.count; ++i) {
    GstElement* p = launch(file_pipeline(a, a.models[i % a.models.size()]));
    gst_element_set_state(p, GST_STATE_PLAYING);
    if (!wait_for(p, GST_MESSAGE_ASYNC_DONE, 30000)) std::fprintf(stderr, "run %d: no preroll\n", i);
    g_usleep(static_cast<gulong>(wait_ms(rng)) * 1000);
    const auto t0 = Clock::now();
    gst_element_seek_simple(p, GST_FORMAT_TIME, static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
                            0);
    // The seek call returns once the flush went through every element (ours abandons its window
    // there); the pipeline is prerolled again when the element's first GAP reaches the sink.
    seek.add(ms_since(t0));
    if (!wait_for(p, GST_MESSAGE_ASYNC_DONE, 30000)) std::fprintf(stderr, "run %d: no ASYNC_DONE after the seek\n", i);
    preroll.add(ms_since(t0));
    g_usleep(static_cast<gulong>(wait_ms(rng)) * 1000);
    stop.add(stop_ms(p));
    std::fprintf(stderr, "run %d: seek %.1f ms, prerolled %.1f ms, stop %.1f ms\n", i, seek.v.back(), preroll.v.back(),
                 stop.v.back());
    gst_object_unref(p);
  }
  std::printf("runs: %d\nseek_ms_median: %.1f\nseek_ms_max: %.1f\nseek_to_preroll_ms_median: %.1f\n"
              "seek_to_preroll_ms_max: %.1f\nstop_ms_median: %.1f\nstop_ms_max: %.1f\nerrors: %d\n",
              a.count, seek.median(), seek.max(), preroll.median(), preroll.max(), stop.median(), stop.max(), g_errors);
  return g_errors ? 1 : 0;
}

int cycles(const Args& a) {
  std::mt19937 rng(a.seed);
  std::uniform_int_distribution<int> wait_ms(0, 1500);
  Summary stop;
  GstElement* p = launch(file_pipeline(a, a.models[0]));
  const double rss0 = rss_mib();
  for (int i = 0; i < a.count; ++i) {
    gst_element_set_state(p, GST_STATE_PLAYING);
    g_usleep(static_cast<gulong>(wait_ms(rng)) * 1000);
    stop.add(stop_ms(p));
    GstBus* bus = gst_element_get_bus(p);
    while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
      ++g_errors;
      gst_message_unref(m);
    }
    gst_object_unref(bus);
  }
  // At NULL the element's teardown (its transcriber, the model, the heap's trim) may still be running;
  // once the pipeline is released it has finished (finalisation waits for it).
  const double rss_at_null = rss_mib();
  gst_object_unref(p);
  std::printf("cycles: %d\nstop_ms_median: %.1f\nstop_ms_max: %.1f\nrss_mib_start: %.0f\nrss_mib_end: %.0f\n"
              "rss_mib_released: %.0f\nerrors: %d\n",
              a.count, stop.median(), stop.max(), rss0, rss_at_null, rss_mib(), g_errors);
  return g_errors ? 1 : 0;
}

int multi(const Args& a) {
  std::mt19937 rng(a.seed);
  std::vector<GstElement*> ps;
  std::vector<bool> playing(static_cast<std::size_t>(a.elements), false);
  for (int i = 0; i < a.elements; ++i) ps.push_back(launch(file_pipeline(a, a.models[i % a.models.size()])));
  std::uniform_int_distribution<int> pick(0, a.elements - 1), wait_ms(0, 500);
  Summary stop;
  int starts = 0;
  const auto t0 = Clock::now();
  while (ms_since(t0) < a.seconds * 1000.0) {
    const std::size_t i = static_cast<std::size_t>(pick(rng));
    if (playing[i]) {
      stop.add(stop_ms(ps[i]));
    } else {
      gst_element_set_state(ps[i], GST_STATE_PLAYING);
      ++starts;
    }
    playing[i] = !playing[i];
    for (GstElement* p : ps) {
      GstBus* bus = gst_element_get_bus(p);
      while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
        ++g_errors;
        gst_message_unref(m);
      }
      gst_object_unref(bus);
    }
    g_usleep(static_cast<gulong>(wait_ms(rng)) * 1000);
  }
  for (GstElement* p : ps) {
    stop.add(stop_ms(p));
    gst_object_unref(p);
  }
  std::printf("elements: %d\nmodels: %zu\nstarts: %d\nstops: %zu\nstop_ms_median: %.1f\nstop_ms_max: %.1f\nrss_mib_end: %.0f\n"
              "errors: %d\n",
              a.elements, a.models.size(), starts, stop.v.size(), stop.median(), stop.max(), rss_mib(), g_errors);
  return g_errors ? 1 : 0;
}

// --- soak --------------------------------------------------------------------------------------

struct Feed {
  std::vector<float> audio;
  std::size_t pos = 0;
  guint64 pushed = 0;  // samples
  guint64 limit = 0;
};

void need_data(GstElement* src, guint, gpointer data) {
  auto* f = static_cast<Feed*>(data);
  if (f->pushed >= f->limit) {
    GstFlowReturn ret;
    g_signal_emit_by_name(src, "end-of-stream", &ret);
    return;
  }
  const std::size_t n = static_cast<std::size_t>(std::min<guint64>(16000, f->limit - f->pushed));
  GstBuffer* b = gst_buffer_new_allocate(nullptr, n * sizeof(float), nullptr);
  GstMapInfo map;
  gst_buffer_map(b, &map, GST_MAP_WRITE);
  auto* out = reinterpret_cast<float*>(map.data);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = f->audio[f->pos];
    f->pos = (f->pos + 1) % f->audio.size();
  }
  gst_buffer_unmap(b, &map);
  GST_BUFFER_PTS(b) = gst_util_uint64_scale_int(f->pushed, GST_SECOND, 16000);
  GST_BUFFER_DURATION(b) = gst_util_uint64_scale_int(n, GST_SECOND, 16000);
  f->pushed += n;
  GstFlowReturn ret;
  g_signal_emit_by_name(src, "push-buffer", b, &ret);
  gst_buffer_unref(b);
}

// Output position of the element (end of the last caption or GAP) and when it last moved on by at
// least a second: the wall time between such moves is the time a window took.
struct Progress {
  GstClockTime out_end = 0;
  Clock::time_point last_move = Clock::now();
  std::vector<double> window_ms;  // since the last sample
  std::vector<double> all_window_ms;
  guint64 captions = 0;
  GMutex lock;
};

GstPadProbeReturn on_output(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* pr = static_cast<Progress*>(data);
  GstClockTime end = GST_CLOCK_TIME_NONE;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
    end = GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b);
    g_mutex_lock(&pr->lock);
    ++pr->captions;
    g_mutex_unlock(&pr->lock);
  } else if (GstEvent* e = GST_PAD_PROBE_INFO_EVENT(info); e && GST_EVENT_TYPE(e) == GST_EVENT_GAP) {
    GstClockTime ts, dur;
    gst_event_parse_gap(e, &ts, &dur);
    end = ts + (GST_CLOCK_TIME_IS_VALID(dur) ? dur : 0);
  }
  if (!GST_CLOCK_TIME_IS_VALID(end)) return GST_PAD_PROBE_OK;
  g_mutex_lock(&pr->lock);
  if (end >= pr->out_end + GST_SECOND) {
    // A window's captions and its closing GAP leave together: a move within 50 ms of the last one
    // belongs to the same window.
    const double ms = ms_since(pr->last_move);
    if (ms > 50.0) {
      pr->window_ms.push_back(ms);
      pr->all_window_ms.push_back(ms);
    }
    pr->last_move = Clock::now();
    pr->out_end = end;
  }
  g_mutex_unlock(&pr->lock);
  return GST_PAD_PROBE_OK;
}

int soak(const Args& a) {
  Feed feed;
  feed.audio = npw::read_wav(a.audio).samples;
  if (feed.audio.empty()) usage("empty audio");
  feed.limit = static_cast<guint64>(a.seconds * 16000.0);
  const std::string desc =
      "appsrc name=src format=time caps=audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved " +
      std::string(a.clocksync ? "! clocksync " : "") + "! npuwhisper name=w model=\"" + a.models[0] + "\" " + a.props +
      " ! fakesink sync=false async=false";
  GstElement* p = launch(desc);
  GstElement* src = gst_bin_get_by_name(GST_BIN(p), "src");
  g_signal_connect(src, "need-data", G_CALLBACK(need_data), &feed);
  GstElement* w = gst_bin_get_by_name(GST_BIN(p), "w");
  GstPad* pad = gst_element_get_static_pad(w, "src");
  Progress pr;
  g_mutex_init(&pr.lock);
  gst_pad_add_probe(pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    on_output, &pr, nullptr);
  std::FILE* csv = a.csv.empty() ? nullptr : std::fopen(a.csv.c_str(), "w");
  if (csv) std::fprintf(csv, "wall_s,audio_s,output_s,rss_mib,windows,window_ms_median,window_ms_max,captions\n");
  const auto t0 = Clock::now();
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(p);
  auto next_sample = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.sample_seconds));
  std::vector<double> rss;
  bool done = false;
  while (!done) {
    GstMessage* m = gst_bus_timed_pop_filtered(bus, 200 * GST_MSECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (m) {
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) ++g_errors;
      done = true;
      gst_message_unref(m);
    }
    if (Clock::now() >= next_sample || done) {
      g_mutex_lock(&pr.lock);
      Summary s;
      for (double x : pr.window_ms) s.add(x);
      pr.window_ms.clear();
      const double out_s = static_cast<double>(pr.out_end) / GST_SECOND;
      const guint64 caps = pr.captions;
      g_mutex_unlock(&pr.lock);
      rss.push_back(rss_mib());
      if (csv) {
        std::fprintf(csv, "%.0f,%.1f,%.1f,%.1f,%zu,%.1f,%.1f,%llu\n", ms_since(t0) / 1000.0,
                     static_cast<double>(feed.pushed) / 16000.0, out_s, rss.back(), s.v.size(), s.median(), s.max(),
                     static_cast<unsigned long long>(caps));
        std::fflush(csv);
      }
      next_sample += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.sample_seconds));
    }
  }
  const double wall = ms_since(t0) / 1000.0;
  gst_element_set_state(p, GST_STATE_NULL);
  // RSS slope over the second half of the samples (the first half includes warm-up).
  double slope = 0.0;
  if (rss.size() >= 4) {
    const std::size_t h = rss.size() / 2;
    slope = (rss.back() - rss[h]) / ((static_cast<double>(rss.size() - 1 - h)) * a.sample_seconds / 3600.0);
  }
  Summary all;
  for (double x : pr.all_window_ms) all.add(x);
  std::printf("audio_s: %.0f\nwall_s: %.0f\nclocksync: %d\nwindows: %zu\nwindow_ms_median: %.0f\nwindow_ms_max: %.0f\n"
              "captions: %llu\nrss_mib_first: %.0f\nrss_mib_last: %.0f\nrss_mib_per_hour_second_half: %.1f\nerrors: %d\n",
              static_cast<double>(feed.pushed) / 16000.0, wall, a.clocksync ? 1 : 0, all.v.size(), all.median(),
              all.max(), static_cast<unsigned long long>(pr.captions), rss.empty() ? 0.0 : rss.front(),
              rss.empty() ? 0.0 : rss.back(), slope, g_errors);
  if (csv) std::fclose(csv);
  gst_object_unref(bus);
  gst_object_unref(pad);
  gst_object_unref(w);
  gst_object_unref(src);
  gst_object_unref(p);
  return g_errors ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const Args a = parse(argc, argv);
  if (a.mode == "stop-seek") return stop_seek(a);
  if (a.mode == "cycles") return cycles(a);
  if (a.mode == "multi") return multi(a);
  if (a.mode == "soak") return soak(a);
  usage(("unknown mode " + a.mode).c_str());
}
