// See scripted_speech.h. Logits: the token the script expects for a sequence gets probability p (its
// word's), every other token shares 1 - p, so the real filters and search follow the script unless a
// rule forbids it (then the sequence has left the script and ends). Scores: one row per fed token,
// high over the frames of the token OpenAI's find_alignment reads for it (its word boundaries take
// the jump of the row before, so row r is given the span of text token r), flat elsewhere.
#include "stream/scripted_speech.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "decode/alignment_source.h"
#include "decode/logit_source.h"
#include "model/model.h"

namespace npw {

namespace {

constexpr double kRate = 16000.0;
constexpr double kPrecision = 0.02;      // seconds per timestamp token and per audio position
constexpr int kMaxTimestamp = 1500;      // <|30.00|>
constexpr int kMaxInitialTimestamp = 50;  // OpenAI's max_initial_timestamp of 1 s
constexpr float kHigh = 10.0f;           // a cross-attention score on the token's own frames

int to_index(double seconds) {
  return std::clamp(static_cast<int>(std::lround(seconds / kPrecision)), 0, kMaxTimestamp);
}

// Logit of every other token when the expected one has logit 0 and probability p.
float others_logit(float p, int n_vocab) {
  return static_cast<float>(std::log((1.0 - p) / p / static_cast<double>(std::max(1, n_vocab - 1))));
}

}  // namespace

std::vector<ScriptedWord> make_word_script(double seconds, double first, double every, double length, int sentence) {
  std::vector<ScriptedWord> s;
  int i = 0;
  for (double t = first; t + length <= seconds; t += every, ++i) {
    std::string w = " w" + std::to_string(i);
    if (sentence > 0 && (i + 1) % sentence == 0) w += ".";
    s.push_back({w, t, t + length});
  }
  return s;
}

class ScriptedSpeech::Logits : public LogitSource {
 public:
  Logits(const ScriptedSpeech& owner, LogitSource* real, int n_vocab, int eot, int no_speech)
      : owner_(owner), real_(real), V_(n_vocab), eot_(eot), no_speech_(no_speech) {}

  int n_vocab() const override { return V_; }

  void begin(const std::vector<int>& prefix, int n_seq, int sot_index, float* sot_logits, float* last_logits) override {
    if (real_) {
      scratch_.resize(2 * static_cast<std::size_t>(V_));
      real_->begin(prefix, n_seq, sot_index, scratch_.data(), scratch_.data() + V_);
    }
    seqs_.assign(static_cast<std::size_t>(n_seq), {});
    // Nobody is silent in the script: <|nospeech|> is as unlikely as any token.
    std::fill(sot_logits, sot_logits + V_, 0.0f);
    if (no_speech_ >= 0) sot_logits[no_speech_] = -30.0f;
    fill(seqs_[0], last_logits);
  }

  void step(const std::vector<int>& tokens, float* logits) override {
    if (real_) {
      scratch_.resize(tokens.size() * static_cast<std::size_t>(V_));
      real_->step(tokens, scratch_.data());
    }
    for (std::size_t i = 0; i < tokens.size() && i < seqs_.size(); ++i) {
      seqs_[i].push_back(tokens[i]);
      fill(seqs_[i], logits + i * static_cast<std::size_t>(V_));
    }
  }

  void reorder(const std::vector<int>& source) override {
    if (real_) real_->reorder(source);
    std::vector<std::vector<int>> next;
    next.reserve(source.size());
    for (int s : source) next.push_back(seqs_[static_cast<std::size_t>(s)]);
    seqs_ = std::move(next);
  }

 private:
  // The next token of a sequence that has followed the script so far; EOT at its end or once the
  // sequence left it.
  void fill(const std::vector<int>& seq, float* out) const {
    const std::vector<Expected>& e = owner_.expected_;
    int next = eot_;
    float p = kRightProbability;
    if (seq.size() < e.size()) {
      bool on_script = true;
      for (std::size_t i = 0; i < seq.size() && on_script; ++i) on_script = seq[i] == e[i].token;
      if (on_script) {
        next = e[seq.size()].token;
        p = e[seq.size()].probability;
      }
    }
    std::fill(out, out + V_, others_logit(p, V_));
    out[next] = 0.0f;
  }

  const ScriptedSpeech& owner_;
  LogitSource* real_;
  int V_, eot_, no_speech_;
  std::vector<std::vector<int>> seqs_;
  std::vector<float> scratch_;
};

class ScriptedSpeech::Alignment : public AlignmentSource {
 public:
  Alignment(const ScriptedSpeech& owner, AlignmentSource* real, int no_timestamps)
      : owner_(owner), real_(real), no_timestamps_(no_timestamps) {}

  void use_heads(const std::vector<AlignmentHead>& heads) override {
    if (real_) real_->use_heads(heads);
  }
  void run(const std::vector<int>& tokens, const std::vector<AlignmentHead>& heads) override {
    if (real_) real_->run(tokens, heads);
    fed_ = tokens;
    spans_.clear();
    probs_.clear();
    const auto nt = std::find(fed_.begin(), fed_.end(), no_timestamps_);
    text_at_ = nt == fed_.end() ? fed_.size() : static_cast<std::size_t>(nt - fed_.begin());
    // Text tokens run from text_at_ + 1 to the EOT; each is matched, in order, with the text tokens
    // of the window's script (the aligner gets those of the closed segments: a prefix).
    // A token's span runs to the next token's start (OpenAI's words are contiguous: a word ends
    // where the next begins), so the DTW path leaves a row exactly where the next token starts.
    std::vector<std::pair<double, double>> token_span;
    for (std::size_t i = 0; i < owner_.heard_.size(); ++i) {
      const HeardWord& w = owner_.heard_[i];
      const double m = static_cast<double>(w.tokens.size());
      const double until = i + 1 < owner_.heard_.size() ? owner_.heard_[i + 1].start : w.end;
      for (std::size_t k = 0; k < w.tokens.size(); ++k) {
        const double a = w.start + (w.end - w.start) * static_cast<double>(k) / m;
        const double b = k + 1 < w.tokens.size() ? w.start + (w.end - w.start) * static_cast<double>(k + 1) / m : until;
        token_span.emplace_back(a, b);
        probs_.push_back(w.probability);
      }
    }
    std::vector<int> script_tokens;
    for (const HeardWord& w : owner_.heard_) script_tokens.insert(script_tokens.end(), w.tokens.begin(), w.tokens.end());
    const std::size_t first = text_at_ + 1;
    const std::size_t n_text = fed_.size() > first + 1 ? fed_.size() - first - 1 : 0;
    if (n_text > script_tokens.size() ||
        !std::equal(fed_.begin() + static_cast<std::ptrdiff_t>(first),
                    fed_.begin() + static_cast<std::ptrdiff_t>(first + n_text), script_tokens.begin()))
      return;  // not the script's text: flat scores, no alignment to give
    // Row text_at_ + r (the <|notimestamps|> row and then the text tokens) is where the aligner reads
    // the start of text token r; the row of the last text token gives the last word's end.
    spans_.assign(fed_.size(), {-1.0, -1.0});
    for (std::size_t r = 0; r < n_text; ++r) spans_[text_at_ + r] = token_span[r];
    if (n_text > 0) {
      const double end = token_span[n_text - 1].second;
      spans_[text_at_ + n_text] = {end, end + 0.1};
    }
  }

  void scores(const AlignmentHead& head, int n_frames, float* out, int ld) override {
    // The real scores are computed for their cost only, into `out` (which the script then
    // overwrites): the aligner calls this for several heads at once from its pool's threads, so
    // nothing here may be shared between calls (a shared buffer resized by two threads was freed
    // under the other's product: a heap-use-after-free ASan found in the live bench).
    if (real_) real_->scores(head, n_frames, out, ld);
    for (std::size_t p = 0; p < fed_.size(); ++p) {
      float* row = out + p * static_cast<std::size_t>(ld);
      std::fill(row, row + n_frames, 0.0f);
      if (p >= spans_.size() || spans_[p].first < 0.0) continue;
      const int a = std::clamp(static_cast<int>(std::lround(spans_[p].first / kPrecision)), 0, n_frames);
      const int b = std::clamp(static_cast<int>(std::lround(spans_[p].second / kPrecision)), a + 1, n_frames);
      for (int j = std::min(a, n_frames - 1); j < b; ++j) row[j] = kHigh;
    }
  }

  void token_probs(int first, const int* targets, int n, int n_ids, float* probs) override {
    if (real_) {
      real_probs_.resize(static_cast<std::size_t>(std::max(0, n)));
      real_->token_probs(first, targets, n, n_ids, real_probs_.data());
    }
    for (int i = 0; i < n; ++i)
      probs[i] = static_cast<std::size_t>(i) < probs_.size() ? probs_[static_cast<std::size_t>(i)] : kRightProbability;
  }

 private:
  const ScriptedSpeech& owner_;
  AlignmentSource* real_;
  int no_timestamps_;
  std::vector<int> fed_;
  std::size_t text_at_ = 0;
  std::vector<std::pair<double, double>> spans_;  // per fed position, seconds from the window start
  std::vector<float> probs_;
  std::vector<float> real_probs_;
};

ScriptedSpeech::ScriptedSpeech(const Model& model, std::vector<ScriptedWord> script, std::unique_ptr<WindowModel> real)
    : model_(model), tokenizer_(model.vocab()), script_(std::move(script)), real_(std::move(real)) {
  const Vocab& v = model_.vocab();
  logits_ = std::make_unique<Logits>(*this, real_ ? &real_->logits() : nullptr, v.n_vocab(), v.eot(), v.no_speech());
  alignment_ = std::make_unique<Alignment>(*this, real_ ? real_->alignment() : nullptr, v.no_timestamps());
}

ScriptedSpeech::~ScriptedSpeech() = default;

void ScriptedSpeech::place(std::uint64_t first, std::size_t n) {
  if (real_) real_->place(first, n);
  first_ = first;
  n_ = std::min<std::size_t>(n, 30 * 16000);
}

void ScriptedSpeech::encode(const float* mel, float* out) {
  if (real_) real_->encode(mel, out);
  ++windows_;
  script_window();
}

LogitSource& ScriptedSpeech::logits() { return *logits_; }
AlignmentSource* ScriptedSpeech::alignment() { return alignment_.get(); }
// The networks' accelerator still computes the mel when they have one: the cost stays real.
std::unique_ptr<LogMelFrontEnd> ScriptedSpeech::device_mel(const float* filters, int n_mels) {
  return real_ ? real_->device_mel(filters, n_mels) : nullptr;
}
std::string ScriptedSpeech::backend_kind() const { return real_ ? real_->backend_kind() : "scripted"; }
void ScriptedSpeech::set_cancel(const std::atomic<bool>* flag) {
  if (real_) real_->set_cancel(flag);
}

void ScriptedSpeech::script_window() {
  const Vocab& v = model_.vocab();
  const double t0 = static_cast<double>(first_) / kRate;
  const double t1 = t0 + static_cast<double>(n_) / kRate;
  // The words starting in the last 0.5-1.0 s are heard wrong, differently in every window.
  const double golden = std::fmod(static_cast<double>(windows_) * 0.618034, 1.0);
  const double wrong_from = final_ ? std::numeric_limits<double>::infinity() : t1 - (0.5 + 0.5 * golden);
  heard_.clear();
  expected_.clear();
  std::vector<bool> closes;  // the word ends a sentence
  for (const ScriptedWord& w : script_) {
    if (w.start < t0 - 1e-9 || w.end > t1 + 1e-9) continue;  // a word cut by the window is not heard
    const bool wrong = w.start >= wrong_from;
    HeardWord h;
    const std::string text = wrong ? " x" + std::to_string(windows_) : w.text;
    h.tokens = tokenizer_.encode(text);
    h.start = w.start - t0;
    h.end = w.end - t0;
    h.probability = wrong ? kWrongProbability : kRightProbability;
    heard_.push_back(std::move(h));
    closes.push_back(!wrong && !w.text.empty() && w.text.back() == '.');
  }
  // Whisper's form: <|start|> text <|end|> per sentence; the unfinished last one has no end (the
  // caller decodes it again from the last closed segment). Nothing heard: <|0.00|> and EOT.
  const int beg = v.timestamp_begin();
  int last_ts = 0;
  bool open = false;
  for (std::size_t i = 0; i < heard_.size(); ++i) {
    const HeardWord& h = heard_[i];
    if (!open) {
      int s = std::max(to_index(h.start), last_ts);
      if (expected_.empty()) s = std::min(s, kMaxInitialTimestamp);
      expected_.push_back({beg + s, -1, kRightProbability});
      last_ts = s;
      open = true;
    }
    for (int t : h.tokens) expected_.push_back({t, static_cast<int>(i), h.probability});
    if (closes[i]) {
      const int e = std::max(to_index(h.end), last_ts + 1);
      expected_.push_back({beg + e, -1, kRightProbability});
      last_ts = e;
      open = false;
    }
  }
  if (expected_.empty()) expected_.push_back({beg, -1, kRightProbability});
}

}  // namespace npw
