// Transcription mode of npuwhisper-cli; see cli_transcribe.h.
#include "cli_transcribe.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "cli_input.h"
#include "cli_output.h"
#include "decode/caption_cues.h"
#include "decode/language.h"
#include "decode/transcriber.h"
#include "util/memory_ledger.h"

namespace npw {

int run_transcription(const CliOptions& o) {
  auto model = load_cli_model(o.model);
  const WavData wav = load_cli_audio(o.audio);
  // The samples, whole as OpenAI's transcribe() holds them, are this run's input: the memory report
  // counts them with the stream's buffers, not as the process's own heap.
  struct InputInLedger {
    const void* p;
    InputInLedger(const void* data, std::size_t bytes) : p(data) {
      memory_ledger::enter(data, bytes, "stream: the input's samples (the whole WAV file)");
    }
    ~InputInLedger() { memory_ledger::leave(p); }
    InputInLedger(const InputInLedger&) = delete;
    InputInLedger& operator=(const InputInLedger&) = delete;
  } input_in_ledger(wav.samples.data(), wav.samples.size() * sizeof(float));
  if (!model->vocab().is_multilingual()) {
    // OpenAI warns and carries on in English; so do we.
    const std::string lang = canonical_language(o.transcribe.language);
    if (lang != "auto" && lang != "en") {
      std::fprintf(stderr, "npuwhisper-cli: warning: %s is an English-only model but --language is '%s'; using English\n",
                   o.model.c_str(), o.transcribe.language.c_str());
    }
    if (o.transcribe.translate) {
      std::fprintf(stderr, "npuwhisper-cli: warning: %s is an English-only model; --translate has no effect\n",
                   o.model.c_str());
    }
  }
  Transcriber transcriber(model, o.transcribe);
  const std::string note = transcriber.backend_note();
  // No NPU is the normal case on most machines and says nothing; an NPU that is there but unusable
  // (kernels missing, self-test failed) is worth a warning.
  if (!note.empty() && transcriber.backend_note_is_warning()) {
    std::fprintf(stderr, "npuwhisper-cli: warning: %s\n", note.c_str());
  }

  SegmentCallback print_line;
  if (o.words) {
    print_line = [](const Segment& s) {
      for (const Word& w : s.words) std::printf("%s\n", word_line(w).c_str());
      std::fflush(stdout);
    };
  } else if (!o.json && !o.srt && !o.vtt) {
    print_line = [](const Segment& s) {
      std::printf("%s\n", segment_line(s).c_str());
      std::fflush(stdout);
    };
  }
  const TranscribeResult r = transcriber.transcribe(wav.samples.data(), wav.samples.size(), print_line);
  if (o.json) std::fputs(transcription_json(r, o.model, o.audio, o.transcribe.word_timestamps).c_str(), stdout);
  if (o.srt) std::fputs(srt_document(shape_cues(r.segments, o.cues)).c_str(), stdout);
  if (o.vtt) std::fputs(vtt_document(shape_cues(r.segments, o.cues)).c_str(), stdout);
  std::fflush(stdout);
  // While the model and the transcriber's buffers are still alive: what the run kept resident.
  if (o.memory_report) {
    std::fputs(format_memory_report(memory_report({o.model})).c_str(), stderr);
    // The model file's resident pages by tensor: a weight the backend repacked should not be here.
    std::vector<std::pair<std::size_t, std::string>> by_tensor;
    for (const TensorView& t : model->tensors()) {
      const std::size_t res = resident_bytes(t.data, t.nbytes);
      if (res >= (std::size_t{1} << 19)) by_tensor.emplace_back(res, t.name);
    }
    std::sort(by_tensor.rbegin(), by_tensor.rend());
    if (!by_tensor.empty()) std::fputs(" the model file's resident pages, tensors of 0.5 MiB or more:\n", stderr);
    for (const auto& [res, name] : by_tensor) {
      std::fprintf(stderr, "  %8.1f MiB  %s\n", static_cast<double>(res) / (1 << 20), name.c_str());
    }
  }
  return std::ferror(stdout) ? 1 : 0;
}

}  // namespace npw
