// Flag declarations of npuwhisper-bench and their checks; nothing here touches files.
#include "bench_options.h"

#include <algorithm>
#include <thread>

#include "cli_flags.h"
#include "util/error.h"

namespace npw {

BenchOptions parse_bench_options(int argc, const char* const* argv) {
  const unsigned hw = std::thread::hardware_concurrency();
  const int default_threads = static_cast<int>(std::clamp(hw == 0 ? 1u : hw, 1u, 8u));
  FlagParser flags("npuwhisper-bench",
                   "Measures the runtime stage by stage on a whisper.cpp GGML model - log-mel per 30 s (one\n"
                   "thread), encoder per window, decoder per token, end-to-end realtime factor, peak RSS and\n"
                   "heap allocations in the steady state - next to this machine's own ceilings measured in the\n"
                   "same run (OpenBLAS SGEMM at the encoder's shapes, memory copy bandwidth). Every figure is\n"
                   "the median over repetitions, with its spread.");
  flags.add_value("model", "FILE", "whisper.cpp GGML model file (or --dims)");
  flags.add_value("dims", "NAME", "instead of --model: a random-weight model of these dimensions (tiny, base, small, ...)");
  flags.add_value("type", "TYPE", "weight type of the --dims model: f32, f16, q8_0, ... (default f16)");
  flags.add_value("audio", "FILE", "WAV (16 kHz mono) for the end-to-end figure and as the stages' signal");
  flags.add_value("threads", "N", "CPU threads (default " + std::to_string(default_threads) + ")");
  flags.add_value("backend", "NAME", "backend: cpu, cpu-int8, npu, npu-emulator, auto (default cpu)");
  flags.add_value("kernel-dir", "DIR", "NPU kernel directory (default $NPW_KERNEL_DIR, else the installed one)");
  flags.add_value("repeat", "N", "timed repetitions per stage (default 5)");
  flags.add_value("context", "N", "tokens already decoded before the timed steps (default 64)");
  flags.add_value("tokens", "N", "timed one-token decoder steps per repetition (default 32); with --word-timing-only, the text tokens aligned");
  flags.add_value("e2e-repeat", "N", "end-to-end transcriptions per decoding mode (default 2; 0 skips)");
  flags.add_switch("json", "print one JSON object instead of a table");
  flags.add_switch("live", "live captions instead: commit latency, duplicates, silence, a stall (bench_live.h)");
  flags.add_switch("word-timing-only", "only the word-timestamps stage: the alignment pass and its parts vs decoding");
  flags.add_switch("encoder-pair", "only the f32 (cpu) and int8 (cpu-int8) encoders, alternating on one window, and their ratio");
  flags.add_value("latency", "MS", "--live: the update step (default 500)");
  flags.add_value("live-seconds", "N", "--live: seconds of scripted speech played in real time (default 60)");
  flags.add_switch("help", "show this text");

  flags.parse(argc, argv);
  BenchOptions o;
  o.usage = flags.usage();
  o.help = flags.has("help");
  if (o.help) return o;
  o.model = flags.value_or("model", "");
  o.dims = flags.value_or("dims", "");
  if (o.model.empty() == o.dims.empty()) {
    throw Error(ErrorKind::InvalidArgument, "give exactly one of --model FILE and --dims NAME");
  }
  if (flags.has("type") && o.dims.empty()) throw Error(ErrorKind::InvalidArgument, "--type goes with --dims");
  o.type = flags.value_or("type", "f16");
  o.audio = flags.value_or("audio", "");
  o.threads = flags.integer_or("threads", default_threads, 1, 256);
  o.backend = flags.value_or("backend", "cpu");
  o.kernel_dir = flags.value_or("kernel-dir", "");
  o.repeat = flags.integer_or("repeat", 5, 1, 10000);
  o.context = flags.integer_or("context", 64, 1, 100000);
  o.tokens = flags.integer_or("tokens", 32, 1, 100000);
  o.e2e_repeat = flags.integer_or("e2e-repeat", 2, 0, 1000);
  o.json = flags.has("json");
  o.live = flags.has("live");
  o.word_timing_only = flags.has("word-timing-only");
  o.encoder_pair = flags.has("encoder-pair");
  if (int(o.live) + int(o.word_timing_only) + int(o.encoder_pair) > 1)
    throw Error(ErrorKind::InvalidArgument, "--live, --word-timing-only and --encoder-pair are different runs: give one");
  if (o.encoder_pair && flags.has("backend"))
    throw Error(ErrorKind::InvalidArgument, "--encoder-pair runs both cpu and cpu-int8: no --backend");
  o.latency_ms = flags.integer_or("latency", 500, 200, 10000);
  o.live_seconds = flags.integer_or("live-seconds", 60, 10, 3600);
  for (const char* f : {"model", "dims", "type", "audio", "backend", "kernel-dir"}) {
    if (flags.has(f) && flags.value_or(f, "").empty()) {
      throw Error(ErrorKind::InvalidArgument, std::string("flag '--") + f + "': empty value");
    }
  }
  return o;
}

}  // namespace npw
