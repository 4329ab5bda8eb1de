// Plugin entry point: registers the npuwhisper element and nothing else.
#include <gst/gst.h>

#include "gstnpuwhisper.h"

static gboolean plugin_init(GstPlugin* plugin) { return GST_ELEMENT_REGISTER(npuwhisper, plugin); }

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, npuwhisper,
                  "Whisper speech-to-text on the CPU or an AMD XDNA NPU", plugin_init, NPW_VERSION, "MIT/X11",
                  "npuwhisper", "https://github.com/npuwhisper/npuwhisper")
