// OpenAI's logit filters; see logit_filters.h.
#include "decode/logit_filters.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/exp_sum.h"

namespace npw {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void fill_neg_inf(float* logits, int begin, int end) {
  for (int i = std::max(begin, 0); i < end; ++i) logits[i] = kNegInf;
}

}  // namespace

void suppress_blank(float* logits, int n_vocab, std::size_t n_sampled, const std::vector<int>& blank_tokens, int eot) {
  if (n_sampled != 0) return;
  for (int id : blank_tokens) {
    if (id >= 0 && id < n_vocab) logits[id] = kNegInf;
  }
  if (eot >= 0 && eot < n_vocab) logits[eot] = kNegInf;
}

void suppress_tokens(float* logits, int n_vocab, const std::vector<int>& ids) {
  for (int id : ids) {
    if (id >= 0 && id < n_vocab) logits[id] = kNegInf;
  }
}

int max_initial_timestamp_index(double seconds, double precision) {
  if (!(seconds > 0.0)) return -1;
  return static_cast<int>(std::nearbyint(seconds / precision));  // default rounding: half to even
}

void apply_timestamp_rules(float* logits, int n_vocab, const int* sampled, std::size_t n_sampled,
                           const TimestampRules& r) {
  const int beg = r.timestamp_begin;
  if (r.no_timestamps >= 0 && r.no_timestamps < n_vocab) logits[r.no_timestamps] = kNegInf;

  const bool last_was_ts = n_sampled >= 1 && sampled[n_sampled - 1] >= beg;
  // OpenAI counts "no penultimate token" as a timestamp: a lone first timestamp opens a segment.
  const bool penultimate_was_ts = n_sampled < 2 || sampled[n_sampled - 2] >= beg;
  if (last_was_ts) {
    if (penultimate_was_ts) {
      fill_neg_inf(logits, beg, n_vocab);  // a pair just closed: text must follow
    } else {
      fill_neg_inf(logits, 0, r.eot);  // text then timestamp: close with a timestamp or end
    }
  }

  int last_ts = -1;
  for (std::size_t i = n_sampled; i > 0; --i) {
    if (sampled[i - 1] >= beg) {
      last_ts = sampled[i - 1];
      break;
    }
  }
  if (last_ts >= 0) {
    // A closing timestamp may equal the opening one's value only when it directly follows text;
    // anything else must move strictly forward.
    const int first_allowed = (last_was_ts && !penultimate_was_ts) ? last_ts : last_ts + 1;
    fill_neg_inf(logits, beg, std::min(first_allowed, n_vocab));
  }

  if (n_sampled == 0) {
    fill_neg_inf(logits, 0, beg);
    if (r.max_initial_timestamp_index >= 0) {
      const long long last_allowed = static_cast<long long>(beg) + r.max_initial_timestamp_index;
      if (last_allowed + 1 < n_vocab) fill_neg_inf(logits, static_cast<int>(last_allowed + 1), n_vocab);
    }
  }

  // Compare log(sum p(timestamp)) with max log p(text). Both sides of OpenAI's comparison are
  // log-softmax values sharing one normaliser, so the normaliser cancels and raw logits suffice.
  const double max_ts = beg < n_vocab ? largest_value(logits + beg, n_vocab - beg) : -std::numeric_limits<double>::infinity();
  double ts_lse = max_ts;
  if (std::isfinite(max_ts)) ts_lse = max_ts + std::log(exp_sum(logits + beg, n_vocab - beg, max_ts, 1.0));
  const double max_text = largest_value(logits, std::min(beg, n_vocab));
  if (ts_lse > max_text) fill_neg_inf(logits, 0, std::min(beg, n_vocab));
}

void log_softmax(const float* logits, int n, float* out) {
  const double mx = largest_value(logits, n);
  if (!std::isfinite(mx)) {
    // Everything forbidden (cannot happen with OpenAI's filters, which always leave EOT or a
    // timestamp): keep the -inf rather than produce NaN.
    for (int i = 0; i < n; ++i) out[i] = kNegInf;
    return;
  }
  const double lse = mx + std::log(exp_sum(logits, n, mx, 1.0));
  for (int i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(logits[i]) - lse);
}

}  // namespace npw
