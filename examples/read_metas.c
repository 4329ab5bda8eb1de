/* Reads the captions of an audio file together with their NpuWhisperSegmentMeta from an appsink and
 * prints every documented field: the starting point for an application that wants more than text
 * (confidence per token, no-speech probability, ...).
 *   usage: npuwhisper-read-metas AUDIO_FILE MODEL */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <stdio.h>

static void print_array(const GstStructure *s, const char *field) {
  const GValue *arr = gst_structure_get_value(s, field);
  guint i, n = arr ? gst_value_array_get_size(arr) : 0;
  printf("  %-18s [", field);
  for (i = 0; i < n; i++) {
    const GValue *v = gst_value_array_get_value(arr, i);
    if (G_VALUE_HOLDS_INT(v))
      printf("%s%d", i ? ", " : "", g_value_get_int(v));
    else
      printf("%s%.3f", i ? ", " : "", g_value_get_double(v));
  }
  printf("]\n");
}

static void print_caption(GstSample *sample) {
  GstBuffer *buf = gst_sample_get_buffer(sample);
  GstCustomMeta *meta = gst_buffer_get_custom_meta(buf, "NpuWhisperSegmentMeta");
  GstMapInfo map;
  guint64 start = 0, end = 0;
  gdouble avg_logprob = 0, no_speech = 0, ratio = 0, temperature = 0;
  const GstStructure *s;

  if (!gst_buffer_map(buf, &map, GST_MAP_READ)) return;
  printf("%" GST_TIME_FORMAT " +%" GST_TIME_FORMAT "  %.*s\n", GST_TIME_ARGS(GST_BUFFER_PTS(buf)),
         GST_TIME_ARGS(GST_BUFFER_DURATION(buf)), (int)map.size, (const char *)map.data);
  gst_buffer_unmap(buf, &map);
  if (!meta) return;
  s = gst_custom_meta_get_structure(meta);
  gst_structure_get(s, "start", G_TYPE_UINT64, &start, "end", G_TYPE_UINT64, &end, "avg-logprob", G_TYPE_DOUBLE,
                    &avg_logprob, "no-speech-prob", G_TYPE_DOUBLE, &no_speech, "compression-ratio", G_TYPE_DOUBLE,
                    &ratio, "temperature", G_TYPE_DOUBLE, &temperature, NULL);
  printf("  %-18s %" GST_TIME_FORMAT " .. %" GST_TIME_FORMAT "\n", "start .. end", GST_TIME_ARGS(start),
         GST_TIME_ARGS(end));
  printf("  %-18s %.3f\n  %-18s %.3f\n  %-18s %.3f\n  %-18s %.2f\n  %-18s %s\n", "avg-logprob", avg_logprob,
         "no-speech-prob", no_speech, "compression-ratio", ratio, "temperature", temperature, "language",
         gst_structure_get_string(s, "language"));
  print_array(s, "tokens");
  print_array(s, "token-probs");
}

int main(int argc, char **argv) {
  GstElement *pipeline, *sink;
  GstSample *sample;
  GError *err = NULL;
  gchar *desc;
  GstBus *bus;
  GstMessage *msg;
  int ret = 0;

  gst_init(&argc, &argv);
  if (argc != 3) {
    fprintf(stderr, "usage: %s AUDIO_FILE MODEL\n", argv[0]);
    return 2;
  }
  desc = g_strdup_printf("filesrc location=\"%s\" ! decodebin ! audioconvert ! audioresample ! "
                         "npuwhisper model=\"%s\" ! appsink name=sink sync=false",
                         argv[1], argv[2]);
  pipeline = gst_parse_launch(desc, &err);
  g_free(desc);
  if (!pipeline) {
    fprintf(stderr, "%s\n", err->message);
    g_error_free(err);
    return 1;
  }
  sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  /* pull_sample returns NULL at EOS, and on error (then the bus says why). */
  while ((sample = gst_app_sink_pull_sample(GST_APP_SINK(sink))) != NULL) {
    print_caption(sample);
    gst_sample_unref(sample);
  }
  bus = gst_element_get_bus(pipeline);
  msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (msg) {
    gst_message_parse_error(msg, &err, NULL);
    fprintf(stderr, "error: %s\n", err->message);
    g_error_free(err);
    gst_message_unref(msg);
    ret = 1;
  }
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return ret;
}
