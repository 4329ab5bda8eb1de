// The npuwhisper element: 16 kHz mono audio in, timed UTF-8 captions out. This file is the
// GStreamer shell only - pads, caps, properties, state changes, queries, event routing and error
// reporting. Inference and output composition live in Stream (npuwhisper_stream.h), run on the
// thread of a Worker (npuwhisper_worker.h).
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_NPU_WHISPER (gst_npu_whisper_get_type())
G_DECLARE_FINAL_TYPE(GstNpuWhisper, gst_npu_whisper, GST, NPU_WHISPER, GstElement)

GST_ELEMENT_REGISTER_DECLARE(npuwhisper);

G_END_DECLS
