// Word-timing stage of npuwhisper-bench; see bench_words.h.
#include "bench_words.h"

#include <vector>

#include "alloc_counter.h"
#include "bench_stages.h"
#include "bench_timer.h"
#include "decode/alignment_heads.h"
#include "decode/decoder_alignment_source.h"
#include "decode/find_alignment.h"
#include "decode/tokenizer.h"
#include "model/model.h"
#include "nn/decoder.h"

namespace npw {

WordTimingBench time_word_timing(StageRig& rig, int text_tokens, int repeat) {
  const Vocab& v = rig.model.vocab();
  Decoder& d = *rig.decoder;
  WordTimingBench b;
  b.text_tokens = text_tokens;
  const std::vector<AlignmentHead> heads = resolve_alignment_heads("auto", rig.model.hparams());
  b.heads = format_alignment_heads(heads);
  WordAligner aligner(heads);
  DecoderAlignmentSource source(d);
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

  std::vector<double> align_ms, decode_ms, beam_ms;
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
    const long long a = npw_alloc_count();
    Stopwatch ta;
    const std::vector<Word> words = aligner.find_alignment(source, tokenizer, at, text, 3000);
    const double al = ta.ms();
    if (r < 0) continue;
    allocs += npw_alloc_count() - a;
    decode_ms.push_back(dec);
    beam_ms.push_back(bdec);
    align_ms.push_back(al);
  }
  b.align_ms = summarize(align_ms);
  b.decode_ms = summarize(decode_ms);
  b.beam_decode_ms = summarize(beam_ms);
  b.allocs = static_cast<double>(allocs) / repeat;
  return b;
}

}  // namespace npw
