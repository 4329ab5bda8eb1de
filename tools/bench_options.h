// npuwhisper-bench's settings, parsed from its flags (declared in bench_options.cpp).
#pragma once

#include <string>

namespace npw {

struct BenchOptions {
  std::string model;          // a GGML file, or empty with dims
  std::string dims;           // generate a random-weight model of these dimensions instead
  std::string type = "f16";   // its weight type
  std::string audio;          // empty: no end-to-end figure; the stages use a synthetic signal
  int threads = 1;
  std::string backend = "cpu";
  std::string kernel_dir;  // NPU kernels (empty: NPW_KERNEL_DIR, else the installed default)
  int repeat = 5;             // timed repetitions of each stage (after one warm-up)
  int context = 64;           // tokens in the sequence before the timed decoder steps
  int tokens = 32;            // timed one-token steps per repetition
  int e2e_repeat = 2;         // end-to-end transcriptions per decoding mode
  bool json = false;
  bool live = false;          // --live: the live-captions benchmark instead (bench_live.h)
  bool word_timing_only = false;  // --word-timing-only: the word-timing stage alone (bench_words.h)
  bool encoder_pair = false;  // --encoder-pair: f32 and int8 encoders alternating (bench_encoder_pair.h)
  int latency_ms = 500;       // its update step
  double live_seconds = 60;   // its scripted speech
  bool help = false;
  std::string usage;
};

// Throws npw::Error(InvalidArgument) naming the offending flag.
BenchOptions parse_bench_options(int argc, const char* const* argv);

}  // namespace npw
