// See webrtc_vad.h. libwebrtc-audio-processing 0.3 exports the VAD's C functions (WebRtcVad_*) but
// does not install their header, and it also exports a stray `main` (its test program's): an
// executable linked against it that takes main from a static archive (gtest_main) runs the
// library's instead. So the library is opened at run time, once, and the five functions looked up
// with the prototypes of WebRTC's webrtc_vad.h (stable since 2015).
#include "stream/webrtc_vad.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>

#include "util/error.h"

namespace npw {

namespace {

constexpr int kRate = 16000;
constexpr std::size_t kMaxFrame = 480;  // 30 ms
constexpr const char* kLibrary = "libwebrtc_audio_processing.so.1";

struct Api {
  void* (*create)();
  void (*free)(void*);
  int (*init)(void*);
  int (*set_mode)(void*, int);
  int (*process)(void*, int, const int16_t*, std::size_t);
};

template <typename F>
void bind(void* lib, const char* name, F& f, std::string& missing) {
  void* p = dlsym(lib, name);
  if (!p) missing += std::string(missing.empty() ? "" : ", ") + name;
  f = reinterpret_cast<F>(p);
}

// Loaded once per process and never unloaded (detectors may live until exit).
const Api& api() {
  static Api a{};
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* why = dlerror();
      error = std::string("the WebRTC VAD needs ") + kLibrary + " (Debian: libwebrtc-audio-processing1): " +
              (why ? why : "not found");
      return;
    }
    std::string missing;
    bind(lib, "WebRtcVad_Create", a.create, missing);
    bind(lib, "WebRtcVad_Free", a.free, missing);
    bind(lib, "WebRtcVad_Init", a.init, missing);
    bind(lib, "WebRtcVad_set_mode", a.set_mode, missing);
    bind(lib, "WebRtcVad_Process", a.process, missing);
    if (!missing.empty()) error = std::string(kLibrary) + " does not export " + missing;
  });
  if (!error.empty()) throw Error(ErrorKind::Unavailable, error);
  return a;
}

}  // namespace

WebRtcVad::WebRtcVad(int aggressiveness) : handle_(api().create()), mode_(0) {
  if (!handle_ || api().init(handle_) != 0) {
    if (handle_) api().free(handle_);
    throw Error(ErrorKind::Internal, "WebRTC VAD: could not create a detector");
  }
  try {
    set_aggressiveness(aggressiveness);
  } catch (...) {
    api().free(handle_);
    throw;
  }
}

WebRtcVad::~WebRtcVad() { api().free(handle_); }

void WebRtcVad::set_aggressiveness(int aggressiveness) {
  if (aggressiveness < 0 || aggressiveness > 3)
    throw Error(ErrorKind::InvalidArgument,
                "VAD aggressiveness " + std::to_string(aggressiveness) + " is outside 0..3");
  if (api().set_mode(handle_, aggressiveness) != 0)
    throw Error(ErrorKind::Internal, "WebRTC VAD refused mode " + std::to_string(aggressiveness));
  mode_ = aggressiveness;
}

bool WebRtcVad::is_speech(const float* frame, std::size_t n) {
  if (n != 160 && n != 320 && n != kMaxFrame)
    throw Error(ErrorKind::InvalidArgument, "WebRTC VAD: a frame is 160, 320 or 480 samples, not " + std::to_string(n));
  int16_t pcm[kMaxFrame];
  for (std::size_t i = 0; i < n; ++i) {
    const float v = std::isfinite(frame[i]) ? std::clamp(frame[i], -1.0f, 1.0f) : 0.0f;
    pcm[i] = static_cast<int16_t>(std::lrint(v * 32767.0f));
  }
  const int r = api().process(handle_, kRate, pcm, n);
  if (r < 0) throw Error(ErrorKind::Internal, "WebRTC VAD failed on a frame of " + std::to_string(n) + " samples");
  return r == 1;
}

}  // namespace npw
