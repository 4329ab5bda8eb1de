// Word-timing stage of npuwhisper-bench; see bench_words.h.
#include "bench_words.h"

#include <vector>

#include "alloc_counter.h"
#include "bench_json.h"
#include "bench_stages.h"
#include "bench_timer.h"
#include "decode/alignment_heads.h"
#include "decode/decoder_alignment_source.h"
#include "decode/find_alignment.h"
#include "decode/tokenizer.h"
#include "model/model.h"
#include "nn/decoder.h"

namespace npw {

namespace {

// Times each call a WordAligner makes into its source: the parts of one alignment.
class TimedAlignmentSource : public AlignmentSource {
 public:
  explicit TimedAlignmentSource(AlignmentSource& inner) : inner_(inner) {}
  void use_heads(const std::vector<AlignmentHead>& heads) override { inner_.use_heads(heads); }
  void run(const std::vector<int>& tokens, const std::vector<AlignmentHead>& heads) override {
    Stopwatch t;
    inner_.run(tokens, heads);
    forward_ms += t.ms();
  }
  // Called from the pool's threads, heads side by side: not timed on its own (part of the rest).
  void scores(const AlignmentHead& head, int n_frames, float* out, int ld) override {
    inner_.scores(head, n_frames, out, ld);
  }
  void token_probs(int first, const int* targets, int n, int n_ids, float* probs) override {
    Stopwatch t;
    inner_.token_probs(first, targets, n, n_ids, probs);
    probs_ms += t.ms();
  }
  void clear() { forward_ms = probs_ms = 0.0; }
  double forward_ms = 0.0, probs_ms = 0.0;

 private:
  AlignmentSource& inner_;
};

}  // namespace

WordTimingBench time_word_timing(StageRig& rig, int text_tokens, int repeat) {
  const Vocab& v = rig.model.vocab();
  Decoder& d = *rig.decoder;
  WordTimingBench b;
  b.text_tokens = text_tokens;
  const std::vector<AlignmentHead> heads = resolve_alignment_heads("auto", rig.model.hparams());
  b.heads = format_alignment_heads(heads);
  WordAligner aligner(heads, 7, 1.0f, rig.pool.get());
  DecoderAlignmentSource decoder_source(d);
  TimedAlignmentSource source(decoder_source);
  Tokenizer tokenizer(v);
  AlignmentTokens at;
  at.sot_sequence = {v.sot()};
  if (v.is_multilingual()) {
    at.sot_sequence.push_back(v.language_token("en"));
    at.sot_sequence.push_back(v.transcribe());
  }
  at.no_timestamps = v.no_timestamps();
  at.eot = v.eot();
  at.language = "en";
  std::vector<int> text(static_cast<std::size_t>(text_tokens));
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<int>((220 + 37 * i) % static_cast<std::size_t>(v.eot()));

  // A decoder for 5 hypotheses over a window of the same size (the cost does not depend on the values).
  const HParams& hp = rig.model.hparams();
  Decoder beam(rig.model, *rig.backend, *rig.pool, 5);
  std::vector<float> enc(static_cast<std::size_t>(hp.n_audio_ctx) * hp.n_audio_state, 0.01f);
  beam.set_audio(enc.data());
  std::vector<int> beam_tokens(5);
  std::vector<TokenSpan> beam_prompt(5);

  std::vector<double> align_ms, decode_ms, beam_ms, forward_ms, probs_ms, rest_ms;
  long long allocs = 0;
  for (int r = -1; r < repeat; ++r) {  // r = -1: warm-up
    // A window's greedy decoding of the same text: the start sequence, then one token per step.
    Stopwatch td;
    d.reset(1);
    const TokenSpan prompt{at.sot_sequence.data(), static_cast<int>(at.sot_sequence.size())};
    d.decode(&prompt, 1);
    for (int t : text) d.decode_next(&t);
    const double dec = td.ms();
    Stopwatch tb;
    beam.reset(5);
    for (TokenSpan& p : beam_prompt) p = TokenSpan{at.sot_sequence.data(), static_cast<int>(at.sot_sequence.size())};
    beam.decode(beam_prompt.data(), 5);
    for (int t : text) {
      for (int& x : beam_tokens) x = t;
      beam.decode_next(beam_tokens.data());
    }
    const double bdec = tb.ms();
    source.clear();
    const long long a = npw_alloc_count();
    Stopwatch ta;
    const std::vector<Word> words = aligner.find_alignment(source, tokenizer, at, text, 3000);
    const double al = ta.ms();
    if (r < 0) continue;
    allocs += npw_alloc_count() - a;
    decode_ms.push_back(dec);
    beam_ms.push_back(bdec);
    align_ms.push_back(al);
    forward_ms.push_back(source.forward_ms);
    probs_ms.push_back(source.probs_ms);
    rest_ms.push_back(al - source.forward_ms - source.probs_ms);
  }
  b.align_ms = summarize(align_ms);
  b.decode_ms = summarize(decode_ms);
  b.beam_decode_ms = summarize(beam_ms);
  b.forward_ms = summarize(forward_ms);
  b.probs_ms = summarize(probs_ms);
  b.rest_ms = summarize(rest_ms);
  b.allocs = static_cast<double>(allocs) / repeat;
  return b;
}

void write_word_timing_only(const WordTimingBench& w, const MachineInfo& machine, const std::string& model,
                            int threads, bool json, std::FILE* out) {
  const double greedy = w.align_ms.median / w.decode_ms.median, beam5 = w.align_ms.median / w.beam_decode_ms.median;
  if (json) {
    std::fprintf(out,
                 "{\"model\": \"%s\", \"threads\": %d, \"machine\": {\"nproc\": %d, \"cpu_model\": \"%s\"},\n"
                 " \"word_timing_ms_per_window\": %.6g, \"word_timing_decode_ms_per_window\": %.6g,\n"
                 " \"word_timing_fraction_of_decode\": %.6g, \"word_timing_fraction_of_beam5_decode\": %.6g,\n"
                 " \"word_timing\": {\"text_tokens\": %d, \"heads\": \"%s\", \"align_ms\": %s,\n"
                 "  \"greedy_decode_ms\": %s, \"beam5_decode_ms\": %s,\n"
                 "  \"forward_ms\": %s, \"token_probs_ms\": %s, \"heads_dtw_ms\": %s,\n"
                 "  \"allocs_per_alignment\": %.6g}}\n",
                 json_escape(model).c_str(), threads, machine.nproc, json_escape(machine.cpu_model).c_str(), w.align_ms.median,
                 w.decode_ms.median, greedy, beam5, w.text_tokens, json_escape(w.heads).c_str(),
                 summary_json(w.align_ms).c_str(), summary_json(w.decode_ms).c_str(),
                 summary_json(w.beam_decode_ms).c_str(), summary_json(w.forward_ms).c_str(),
                 summary_json(w.probs_ms).c_str(), summary_json(w.rest_ms).c_str(),
                 w.allocs);
    return;
  }
  std::fprintf(out, "machine: %s, %d CPUs online; model %s, %d threads\n", machine.cpu_model.c_str(), machine.nproc,
               model.c_str(), threads);
  std::fprintf(out, "word timing: %.2f ms per window (%d text tokens, heads %s)\n", w.align_ms.median, w.text_tokens,
               w.heads.c_str());
  std::fprintf(out, "  forward pass %.2f ms, token probabilities %.2f ms, heads (scores, softmax, normalisation, "
               "median filter) + DTW + words %.2f ms\n",
               w.forward_ms.median, w.probs_ms.median, w.rest_ms.median);
  std::fprintf(out, "  greedy decoding of the same text %.2f ms (%.1f %%), 5 beams %.2f ms (%.1f %%); %.0f allocations "
               "per alignment\n",
               w.decode_ms.median, 100.0 * greedy, w.beam_decode_ms.median, 100.0 * beam5, w.allocs);
}

}  // namespace npw
