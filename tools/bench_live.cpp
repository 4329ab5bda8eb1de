// See bench_live.h.
#include "bench_live.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "audio/wav.h"
#include "bench_machine.h"
#include "decode/transcriber.h"
#include "model/model.h"
#include "stream/live_timing.h"
#include "stream/live_transcript.h"
#include "stream/scripted_speech.h"
#include "stream/step_allowance.h"
#include "stream/voice_gate.h"

namespace npw {
namespace {

constexpr int kRate = 16000;
constexpr std::size_t kChunk = 1600;  // 100 ms, as a capture source delivers
using Clock = std::chrono::steady_clock;

// The backend stalls once (sleeps `stall` seconds inside a step) when the stream reaches `at`.
class StallingRecognizer : public Recognizer {
 public:
  explicit StallingRecognizer(Transcriber& t) : inner_(t) {}
  void stall_once_at(double stream_seconds, double stall) { stall_at_ = stream_seconds, stall_ = stall; }
  WindowResult recognize(const float* samples, std::size_t n, const HypothesisOptions& h) override {
    const double end = static_cast<double>(h.stream_sample + n) / kRate;
    if (stall_ > 0.0 && end >= stall_at_) {
      std::this_thread::sleep_for(std::chrono::duration<double>(stall_));
      stall_ = 0.0;
    }
    return inner_.recognize(samples, n, h);
  }

 private:
  TranscriberRecognizer inner_;
  double stall_at_ = 0.0, stall_ = 0.0;
};

// A Transcriber whose networks sit behind the scripted speech (run each window, output replaced).
struct ScriptedTranscriber {
  ScriptedSpeech* speech = nullptr;
  std::unique_ptr<Transcriber> transcriber;
  ScriptedTranscriber(const std::shared_ptr<const Model>& model, const Options& opt,
                      const std::vector<ScriptedWord>& script, bool with_networks) {
    transcriber = std::make_unique<Transcriber>(model, opt, [&](std::unique_ptr<WindowModel> networks) {
      auto s = std::make_unique<ScriptedSpeech>(*model, script, with_networks ? std::move(networks) : nullptr);
      speech = s.get();
      return std::unique_ptr<WindowModel>(std::move(s));
    });
  }
};

struct Emitted {
  Word word;
  double at;  // wall seconds since the stream started
};

struct RunResult {
  std::vector<Emitted> out;
  double max_delay = 0.0;
  int steps = 0;
  std::vector<double> step_seconds;
  double stall_caught_up_s = -1.0;  // from the stall's end until the delay is back under the bound
  double step_allowance = 0.0;      // the step the latency allowed for at the end (StepAllowance)
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double idx = p * static_cast<double>(v.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(idx);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (idx - static_cast<double>(lo));
}

// Plays `audio` in real time into the live transcript, stepping as the element does (`step_s`: its
// `latency`), the latency's step raised by the measured steps as the element's is.
RunResult play_live(const std::vector<float>& audio, Recognizer& rec, ScriptedSpeech& speech, double step_s,
                    double stall = 0.0) {
  LiveTranscript lt(rec, LiveSettings{});
  StepAllowance allowance(step_s);
  RunResult r;
  const std::size_t step = static_cast<std::size_t>(step_s * kRate);
  const double bound = std::max(2.0, 2.0 * step_s);
  const Clock::time_point start = Clock::now();
  auto now = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  auto arrived = [&] { return std::min(audio.size(), static_cast<std::size_t>(now() * kRate) / kChunk * kChunk); };
  std::size_t handled = 0, since = 0;
  double stall_end = -1.0;
  bool behind = false;
  auto emit = [&](std::vector<Word> words) {
    const double at = now();
    for (Word& w : words) r.out.push_back({std::move(w), at});
  };
  while (handled < audio.size()) {
    if (arrived() <= handled) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    const std::size_t n = std::min(kChunk, audio.size() - handled);
    lt.append(audio.data() + handled, n);
    handled += n;
    since += n;
    const std::size_t pending = arrived() - handled;
    if (since < step || (pending >= step && lt.buffered() < LiveTranscript::kMaxBuffer)) continue;
    const double t0 = now();
    std::vector<Word> words = lt.step();
    const double proc = now() - t0;
    since = 0;
    ++r.steps;
    r.step_seconds.push_back(proc);
    allowance.add(proc);
    const LiveTiming timing{allowance.seconds(), 0.0};  // the speech runs have the gate off
    const double delay = proc + static_cast<double>(arrived() - handled) / kRate;
    r.max_delay = std::max(r.max_delay, delay);
    if (stall > 0.0 && stall_end < 0.0 && proc >= stall) stall_end = now();
    if (delay > bound) {
      for (Word& w : lt.commit_until(static_cast<double>(lt.end()) / kRate - kUnreliableTailSeconds))
        words.push_back(std::move(w));
      behind = true;
    } else if (behind && delay < bound / 2) {
      behind = false;
      if (stall_end >= 0.0 && r.stall_caught_up_s < 0.0) r.stall_caught_up_s = now() - stall_end;
    }
    const double arrived_s = static_cast<double>(arrived()) / kRate;
    const double reliable = static_cast<double>(lt.end()) / kRate - kUnreliableTailSeconds;
    for (Word& w : lt.commit_until(std::min(timing.deadline(arrived_s), reliable))) words.push_back(std::move(w));
    emit(std::move(words));
  }
  // End of stream, as the element's EOS: one last look at the whole buffer, then the tail is final.
  speech.set_final(true);
  emit(lt.step());
  emit(lt.finish());
  if (stall_end >= 0.0 && r.stall_caught_up_s < 0.0 && !behind) r.stall_caught_up_s = 0.0;
  r.step_allowance = allowance.seconds();
  return r;
}

struct Score {
  int expected = 0, committed = 0, duplicated = 0, retracted = 0;
  std::vector<double> latency;  // emission - word end
  double max_emission_delay = 0.0;  // emission - word start (its PTS)
  bool in_order = true;
};

Score score(const std::vector<ScriptedWord>& script, const RunResult& r) {
  Score s;
  s.expected = static_cast<int>(script.size());
  std::vector<int> seen(script.size(), 0);
  std::size_t next = 0;
  for (const Emitted& e : r.out) {
    // The script word this is (by text): a committed word that is not in the script would have to
    // be taken back by a real captioner (counted as retracted).
    std::size_t k = script.size();
    for (std::size_t i = 0; i < script.size(); ++i)
      if (script[i].text == e.word.word) k = i;
    if (k == script.size()) {
      ++s.retracted;
      continue;
    }
    if (seen[k]++) {
      ++s.duplicated;
      continue;
    }
    if (k < next) s.in_order = false;
    next = k + 1;
    ++s.committed;
    s.latency.push_back(e.at - script[k].end);
    s.max_emission_delay = std::max(s.max_emission_delay, e.at - script[k].start);
  }
  return s;
}

// Text and CPU of `audio` through the voice gate and the live transcript as fast as possible.
struct GateResult {
  int words = 0;
  double cpu_fraction = 0.0;
};

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

GateResult gated(const std::vector<float>& audio, Transcriber& t, double step) {
  TranscriberRecognizer rec(t);
  LiveTranscript lt(rec, LiveSettings{});
  VoiceGate gate(GateSettings{});
  GateResult g;
  const double c0 = cpu_seconds();
  std::size_t since = 0;
  std::vector<GateChunk> chunks;
  for (std::size_t i = 0; i < audio.size(); i += kChunk) {
    chunks.clear();
    gate.push(audio.data() + i, std::min(kChunk, audio.size() - i), chunks);
    for (GateChunk& c : chunks) {
      if (c.speech) {
        lt.append(c.samples.data(), c.samples.size());
        since += c.samples.size();
      } else {
        if (c.utterance_end) g.words += static_cast<int>(lt.finish().size());
        lt.skip(c.samples.size());
      }
    }
    if (since >= static_cast<std::size_t>(step * kRate) && lt.buffered() > 0) {
      g.words += static_cast<int>(lt.step().size());
      since = 0;
    }
  }
  chunks.clear();
  gate.drain(chunks);
  g.words += static_cast<int>(lt.finish().size());
  g.cpu_fraction = (cpu_seconds() - c0) / (static_cast<double>(audio.size()) / kRate);
  return g;
}

std::vector<float> tiled_speech(double seconds) {
  const std::vector<float> jfk = read_wav(NPW_JFK_WAV).samples;
  std::vector<float> a(static_cast<std::size_t>(seconds * kRate));
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = jfk[i % jfk.size()];
  return a;
}

}  // namespace

int run_live_bench(std::shared_ptr<const Model> model, const std::string& model_name, const LiveBenchOptions& o,
                   bool json) {
  Options opt;
  opt.beam_size = 0;        // random weights fail every quality test: without this each step would
  opt.temperatures = {0.0f};  // decode up to six times (trained weights rarely fall back)
  opt.n_threads = o.threads;
  opt.backend = o.backend;
  opt.language = "en";
  const double step = o.latency_ms / 1000.0;

  // Scripted speech over the real networks: the model's cost is in every step.
  const std::vector<ScriptedWord> script = make_word_script(o.seconds);
  ScriptedTranscriber real(model, opt, script, true);
  TranscriberRecognizer rec(*real.transcriber);
  const RunResult run = play_live(tiled_speech(o.seconds), rec, *real.speech, step);
  const Score sc = score(script, run);
  const Stats& st = real.transcriber->stats();

  // The policy alone (no model cost): what the commit rule gives when every step is instant.
  const double policy_seconds = std::min(20.0, o.seconds);
  const std::vector<ScriptedWord> policy_script = make_word_script(policy_seconds);
  ScriptedTranscriber policy_t(model, opt, policy_script, false);
  TranscriberRecognizer policy_rec(*policy_t.transcriber);
  const Score policy =
      score(policy_script, play_live(std::vector<float>(static_cast<std::size_t>(policy_seconds * kRate), 0.0f),
                                     policy_rec, *policy_t.speech, step));

  // The backend stalls 3 s once, 5 s into the stream.
  const double stall_seconds = std::max(12.0, o.seconds / 2);
  const std::vector<ScriptedWord> stall_script = make_word_script(stall_seconds);
  ScriptedTranscriber stall_t(model, opt, stall_script, true);
  StallingRecognizer stall_rec(*stall_t.transcriber);
  stall_rec.stall_once_at(5.0, 3.0);
  const RunResult stall = play_live(tiled_speech(stall_seconds), stall_rec, *stall_t.speech, step, 3.0);
  const Score stall_sc = score(stall_script, stall);

  // The same stall with instant steps: the catch-up rule itself, whatever this machine's load.
  ScriptedTranscriber pstall_t(model, opt, stall_script, false);
  StallingRecognizer pstall_rec(*pstall_t.transcriber);
  pstall_rec.stall_once_at(5.0, 3.0);
  const RunResult pstall =
      play_live(std::vector<float>(static_cast<std::size_t>(stall_seconds * kRate), 0.0f), pstall_rec,
                *pstall_t.speech, step, 3.0);
  const Score pstall_sc = score(stall_script, pstall);

  Transcriber transcriber(model, opt);
  const std::vector<float> silence(60 * kRate, 0.0f);
  std::vector<float> noise(60 * kRate);
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 0.003f);
  for (float& v : noise) v = nd(rng);
  const GateResult gs = gated(silence, transcriber, step);
  const GateResult gn = gated(noise, transcriber, step);

  const MachineInfo m = machine_info();
  auto per_step = [&](double total) { return run.steps > 0 ? total / run.steps : 0.0; };
  const double median = percentile(sc.latency, 0.5), p95 = percentile(sc.latency, 0.95);
  // The element's answer at the end of the same stream: its default gate's start delay included.
  const double reported = LiveTiming{run.step_allowance, GateSettings{}.start_ms / 1000.0}.latency();
  if (json) {
    std::printf("{\n  \"bench\": \"live\",\n  \"cpu\": \"%s\",\n  \"model\": \"%s\",\n  \"threads\": %d,\n"
                "  \"latency_ms\": %d,\n  \"speech_seconds\": %.1f,\n  \"steps\": %d,\n"
                "  \"step_seconds_median\": %.3f,\n  \"step_seconds_p95\": %.3f,\n"
                "  \"windows_per_step\": %.2f,\n  \"encoder_seconds_per_step\": %.3f,\n"
                "  \"decoder_seconds_per_step\": %.3f,\n  \"word_timing_seconds_per_step\": %.3f,\n"
                "  \"commit_latency_median_s\": %.3f,\n  \"commit_latency_p95_s\": %.3f,\n"
                "  \"words_expected\": %d,\n  \"words_committed\": %d,\n  \"words_duplicated\": %d,\n"
                "  \"words_retracted\": %d,\n  \"words_in_order\": %s,\n  \"max_emission_delay_s\": %.3f,\n"
                "  \"reported_latency_s\": %.3f,\n  \"step_allowance_s\": %.3f,\n  \"max_delay_s\": %.3f,\n"
                "  \"silence_text_buffers\": %d,\n  \"noise_text_buffers\": %d,\n  \"silence_cpu_fraction\": %.4f,\n"
                "  \"noise_cpu_fraction\": %.4f,\n  \"stall_seconds\": 3.0,\n  \"stall_max_delay_s\": %.3f,\n"
                "  \"stall_caught_up_s\": %.3f,\n  \"stall_words_expected\": %d,\n  \"stall_words_committed\": %d,\n"
                "  \"stall_words_duplicated\": %d,\n  \"stall_words_retracted\": %d,\n  \"stall_words_in_order\": %s,\n"
                "  \"policy_commit_latency_median_s\": %.3f,\n  \"policy_commit_latency_p95_s\": %.3f,\n"
                "  \"policy_words_expected\": %d,\n  \"policy_words_committed\": %d,\n"
                "  \"policy_words_duplicated\": %d,\n  \"policy_words_retracted\": %d,\n"
                "  \"policy_max_emission_delay_s\": %.3f,\n"
                "  \"policy_stall_max_delay_s\": %.3f,\n  \"policy_stall_caught_up_s\": %.3f,\n"
                "  \"policy_stall_words_expected\": %d,\n  \"policy_stall_words_committed\": %d,\n"
                "  \"policy_stall_words_duplicated\": %d,\n  \"policy_stall_words_retracted\": %d,\n"
                "  \"policy_stall_words_in_order\": %s\n}\n",
                m.cpu_model.c_str(), model_name.c_str(), o.threads, o.latency_ms, o.seconds, run.steps,
                percentile(run.step_seconds, 0.5), percentile(run.step_seconds, 0.95), per_step(st.windows),
                per_step(st.encoder_seconds), per_step(st.decoder_seconds), per_step(st.word_timing_seconds), median,
                p95, sc.expected,
                sc.committed, sc.duplicated, sc.retracted, sc.in_order ? "true" : "false", sc.max_emission_delay,
                reported, run.step_allowance, run.max_delay, gs.words, gn.words, gs.cpu_fraction, gn.cpu_fraction, stall.max_delay,
                stall.stall_caught_up_s, stall_sc.expected, stall_sc.committed, stall_sc.duplicated,
                stall_sc.retracted, stall_sc.in_order ? "true" : "false", percentile(policy.latency, 0.5), percentile(policy.latency, 0.95),
                policy.expected, policy.committed, policy.duplicated, policy.retracted, policy.max_emission_delay,
                pstall.max_delay, pstall.stall_caught_up_s, pstall_sc.expected, pstall_sc.committed,
                pstall_sc.duplicated, pstall_sc.retracted, pstall_sc.in_order ? "true" : "false");
  } else {
    std::printf("live captions, %s, %s, %d thread(s), latency %d ms\n", m.cpu_model.c_str(), model_name.c_str(),
                o.threads, o.latency_ms);
    std::printf("  commit latency: median %.2f s, p95 %.2f s (reported latency %.2f s, max emission delay %.2f s)\n",
                median, p95, reported, sc.max_emission_delay);
    std::printf("  words: %d expected, %d committed, %d duplicated, %d retracted, %s\n", sc.expected, sc.committed,
                sc.duplicated, sc.retracted, sc.in_order ? "in order" : "OUT OF ORDER");
    std::printf("  steps: %d, median %.3f s each (%.2f windows: encoder %.3f s, decoder %.3f s, word timing %.3f s); "
                "max delay %.2f s\n",
                run.steps, percentile(run.step_seconds, 0.5), per_step(st.windows), per_step(st.encoder_seconds),
                per_step(st.decoder_seconds), per_step(st.word_timing_seconds), run.max_delay);
    std::printf("  60 s silence: %d text buffers, %.2f %% of a core; 60 s low noise: %d text buffers\n", gs.words,
                100.0 * gs.cpu_fraction, gn.words);
    std::printf("  policy alone (instant steps): commit latency median %.2f s, p95 %.2f s; %d/%d words, %d "
                "duplicated, %d retracted; max emission delay %.2f s\n",
                percentile(policy.latency, 0.5), percentile(policy.latency, 0.95), policy.committed, policy.expected,
                policy.duplicated, policy.retracted, policy.max_emission_delay);
    std::printf("  3 s stall: max delay %.2f s, caught up %.2f s after it; %d/%d words, %d duplicated\n",
                stall.max_delay, stall.stall_caught_up_s, stall_sc.committed, stall_sc.expected, stall_sc.duplicated);
    std::printf("  3 s stall, instant steps: max delay %.2f s, caught up %.2f s after it; %d/%d words, %d duplicated, "
                "%d retracted, %s\n",
                pstall.max_delay, pstall.stall_caught_up_s, pstall_sc.committed, pstall_sc.expected,
                pstall_sc.duplicated, pstall_sc.retracted, pstall_sc.in_order ? "in order" : "OUT OF ORDER");
  }
  return 0;
}

}  // namespace npw
