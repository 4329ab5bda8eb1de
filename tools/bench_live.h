// npuwhisper-bench --live: live captions measured at the runtime level, in real time on this
// machine. A scripted recogniser "hears" a known word list (and gets the last 0.5-1.0 s of each
// buffer wrong in a new way every step) while the real encoder and decoder run on the buffer's
// audio each step, their output thrown away; the driver schedules steps as the element does
// (npuwhisper_live.cpp: a step per `latency` of audio, a late step covering all that arrived, the
// backlog bound, the commit deadline of npw::LiveTiming). Also: text and CPU on 60 s of silence and
// of low noise through the voice gate, and an artificial 3 s stall.
#pragma once

#include <memory>
#include <string>

namespace npw {

class Model;

struct LiveBenchOptions {
  int latency_ms = 500;
  double seconds = 60.0;  // of scripted speech (the stall run is half as long)
  int threads = 2;
  std::string backend = "cpu";
};

// Prints one JSON object (or a short table) to stdout. Returns the process exit code.
int run_live_bench(std::shared_ptr<const Model> model, const std::string& model_name, const LiveBenchOptions& o,
                   bool json);

}  // namespace npw
