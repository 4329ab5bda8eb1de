// Generation of random-weight Whisper models (see random_model.h). The normal deviates come from our
// own Box-Muller transform over std::mt19937 because std::normal_distribution's algorithm is left to
// each standard library; mt19937 and seed_seq are fully specified, so the same seed gives the same
// file with any compiler.
#include "model/random_model.h"

#include <cmath>
#include <random>

#include "model/ggml_writer.h"
#include "model/mel_filterbank.h"
#include "util/error.h"

namespace npw {

namespace {

struct NamedDims {
  const char* name;
  int32_t n_vocab, n_state, n_head, n_layer, n_mels;
};

constexpr NamedDims kDims[] = {
    {"tiny", 51865, 384, 6, 4, 80},      {"tiny.en", 51864, 384, 6, 4, 80},
    {"base", 51865, 512, 8, 6, 80},      {"base.en", 51864, 512, 8, 6, 80},
    {"small", 51865, 768, 12, 12, 80},   {"small.en", 51864, 768, 12, 12, 80},
    {"medium", 51865, 1024, 16, 24, 80}, {"medium.en", 51864, 1024, 16, 24, 80},
    {"large-v3", 51866, 1280, 20, 32, 128}, {"test", 51864, 64, 4, 2, 80},
};

uint32_t fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

class Gaussian {
 public:
  Gaussian(uint32_t seed, const std::string& name) {
    std::seed_seq seq{seed, fnv1a(name)};
    rng_.seed(seq);
  }
  double next() {
    if (have_spare_) {
      have_spare_ = false;
      return spare_;
    }
    // u1 in (0, 1) so the log is finite; u2 in [0, 1).
    const double u1 = (static_cast<double>(rng_()) + 0.5) * 0x1p-32;
    const double u2 = static_cast<double>(rng_()) * 0x1p-32;
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 6.283185307179586476925 * u2;  // 2 pi u2
    spare_ = r * std::sin(a);
    have_spare_ = true;
    return r * std::cos(a);
  }

 private:
  std::mt19937 rng_;
  double spare_ = 0.0;
  bool have_spare_ = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// OpenAI's whisper.model.sinusoids(length, channels): row t is [sin(t * f_c) for c < channels/2,
// cos(t * f_c) for c < channels/2] with f_c = exp(-c * ln(10000) / (channels/2 - 1)).
std::vector<float> sinusoids(int64_t channels, int64_t length) {
  std::vector<float> out(static_cast<size_t>(channels * length));
  const int64_t half = channels / 2;
  const double inc = std::log(10000.0) / static_cast<double>(half - 1);
  for (int64_t t = 0; t < length; ++t) {
    for (int64_t c = 0; c < half; ++c) {
      const double a = static_cast<double>(t) * std::exp(-inc * static_cast<double>(c));
      out[static_cast<size_t>(t * channels + c)] = static_cast<float>(std::sin(a));
      out[static_cast<size_t>(t * channels + half + c)] = static_cast<float>(std::cos(a));
    }
  }
  return out;
}

void add(std::vector<TensorSpec>& v, const std::string& name, std::initializer_list<int64_t> ne, GgmlType wtype) {
  TensorSpec s;
  s.name = name;
  s.n_dims = static_cast<int>(ne.size());
  int i = 0;
  for (int64_t d : ne) s.ne[i++] = d;
  s.type = whisper_tensor_type(name, s.n_dims, s.ne, wtype);
  v.push_back(std::move(s));
}

// Self- or cross-attention of a block: key has no bias, as in OpenAI's model.
void add_attention(std::vector<TensorSpec>& v, const std::string& p, int64_t n, GgmlType wtype) {
  add(v, p + ".query.weight", {n, n}, wtype);
  add(v, p + ".query.bias", {n}, wtype);
  add(v, p + ".key.weight", {n, n}, wtype);
  add(v, p + ".value.weight", {n, n}, wtype);
  add(v, p + ".value.bias", {n}, wtype);
  add(v, p + ".out.weight", {n, n}, wtype);
  add(v, p + ".out.bias", {n}, wtype);
}

void add_norm(std::vector<TensorSpec>& v, const std::string& p, int64_t n, GgmlType wtype) {
  add(v, p + ".weight", {n}, wtype);
  add(v, p + ".bias", {n}, wtype);
}

void add_mlp(std::vector<TensorSpec>& v, const std::string& p, int64_t n, GgmlType wtype) {
  add(v, p + ".0.weight", {n, 4 * n}, wtype);
  add(v, p + ".0.bias", {4 * n}, wtype);
  add(v, p + ".2.weight", {4 * n, n}, wtype);
  add(v, p + ".2.bias", {n}, wtype);
}

}  // namespace

HParams whisper_dims(const std::string& name) {
  for (const NamedDims& d : kDims) {
    if (name != d.name) continue;
    HParams hp;
    hp.n_vocab = d.n_vocab;
    hp.n_audio_ctx = 1500;
    hp.n_audio_state = d.n_state;
    hp.n_audio_head = d.n_head;
    hp.n_audio_layer = d.n_layer;
    hp.n_text_ctx = 448;
    hp.n_text_state = d.n_state;
    hp.n_text_head = d.n_head;
    hp.n_text_layer = d.n_layer;
    hp.n_mels = d.n_mels;
    return hp;
  }
  std::string known;
  for (const NamedDims& d : kDims) known += std::string(known.empty() ? "" : ", ") + d.name;
  throw Error(ErrorKind::InvalidArgument, "unknown model dimensions '" + name + "' (known: " + known + ")");
}

const std::vector<std::string>& whisper_dims_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const NamedDims& d : kDims) v.emplace_back(d.name);
    return v;
  }();
  return names;
}

void set_file_type(HParams& hp, GgmlType wtype) {
  hp.qntvr = ggml_type_is_quantized(wtype) ? 2 : 0;
  switch (wtype) {
    case GgmlType::F32: hp.ftype = static_cast<int32_t>(GgmlFtype::AllF32); break;
    case GgmlType::F16: hp.ftype = static_cast<int32_t>(GgmlFtype::MostlyF16); break;
    case GgmlType::Q4_0: hp.ftype = static_cast<int32_t>(GgmlFtype::MostlyQ4_0); break;
    case GgmlType::Q4_1: hp.ftype = static_cast<int32_t>(GgmlFtype::MostlyQ4_1); break;
    case GgmlType::Q5_0: hp.ftype = static_cast<int32_t>(GgmlFtype::MostlyQ5_0); break;
    case GgmlType::Q5_1: hp.ftype = static_cast<int32_t>(GgmlFtype::MostlyQ5_1); break;
    case GgmlType::Q8_0: hp.ftype = static_cast<int32_t>(GgmlFtype::MostlyQ8_0); break;
  }
}

GgmlType whisper_tensor_type(const std::string& name, int n_dims, const int64_t* ne, GgmlType wtype) {
  if (wtype == GgmlType::F32) return GgmlType::F32;
  const bool keep_f32 = n_dims < 2 || name == "encoder.conv1.bias" || name == "encoder.conv2.bias" ||
                        name == "encoder.positional_embedding" || name == "decoder.positional_embedding";
  if (keep_f32) return GgmlType::F32;
  if (wtype == GgmlType::F16) return GgmlType::F16;
  if (n_dims == 2 && ne[0] % ggml_block_elems(wtype) == 0) return wtype;
  return GgmlType::F16;
}

std::vector<TensorSpec> whisper_tensor_specs(const HParams& hp, GgmlType wtype) {
  const int64_t n = hp.n_audio_state;
  const int64_t t = hp.n_text_state;
  if (n < 4 || n % 2 != 0 || t < 1 || hp.n_mels < 1 || hp.n_audio_ctx < 1 || hp.n_text_ctx < 1 || hp.n_vocab < 1 ||
      hp.n_audio_layer < 0 || hp.n_text_layer < 0) {
    throw Error(ErrorKind::InvalidArgument, "whisper dimensions: state " + std::to_string(n) + "/" + std::to_string(t) +
                                                ", mels " + std::to_string(hp.n_mels) + ", contexts " +
                                                std::to_string(hp.n_audio_ctx) + "/" + std::to_string(hp.n_text_ctx) +
                                                ", vocabulary " + std::to_string(hp.n_vocab) + " do not make a model");
  }
  std::vector<TensorSpec> v;
  add(v, "encoder.positional_embedding", {n, hp.n_audio_ctx}, wtype);
  add(v, "encoder.conv1.weight", {3, hp.n_mels, n}, wtype);
  add(v, "encoder.conv1.bias", {1, n}, wtype);
  add(v, "encoder.conv2.weight", {3, n, n}, wtype);
  add(v, "encoder.conv2.bias", {1, n}, wtype);
  for (int i = 0; i < hp.n_audio_layer; ++i) {
    const std::string p = "encoder.blocks." + std::to_string(i);
    add_attention(v, p + ".attn", n, wtype);
    add_norm(v, p + ".attn_ln", n, wtype);
    add_mlp(v, p + ".mlp", n, wtype);
    add_norm(v, p + ".mlp_ln", n, wtype);
  }
  add_norm(v, "encoder.ln_post", n, wtype);
  add(v, "decoder.positional_embedding", {t, hp.n_text_ctx}, wtype);
  add(v, "decoder.token_embedding.weight", {t, hp.n_vocab}, wtype);
  for (int i = 0; i < hp.n_text_layer; ++i) {
    const std::string p = "decoder.blocks." + std::to_string(i);
    add_attention(v, p + ".attn", t, wtype);
    add_norm(v, p + ".attn_ln", t, wtype);
    add_attention(v, p + ".cross_attn", t, wtype);
    add_norm(v, p + ".cross_attn_ln", t, wtype);
    add_mlp(v, p + ".mlp", t, wtype);
    add_norm(v, p + ".mlp_ln", t, wtype);
  }
  add_norm(v, "decoder.ln", t, wtype);
  return v;
}

std::vector<float> whisper_tensor_values(const TensorSpec& spec, uint32_t seed) {
  const std::string& name = spec.name;
  if (name == "encoder.positional_embedding") return sinusoids(spec.ne[0], spec.ne[1]);
  double mean = 0.0, sd = 0.05;  // linear and conv weights
  if (contains(name, "_ln.") || contains(name, ".ln.") || contains(name, ".ln_post.")) {
    if (ends_with(name, ".weight")) mean = 1.0;
    else sd = 0.02;
  } else if (ends_with(name, ".bias")) {
    sd = 0.02;
  } else if (ends_with(name, "query.weight") || ends_with(name, "key.weight")) {
    sd = 0.15;
  } else if (name == "decoder.token_embedding.weight") {
    sd = 0.10;
  } else if (name == "decoder.positional_embedding") {
    sd = 0.30;
  }
  Gaussian g(seed, name);
  std::vector<float> v(static_cast<size_t>(spec.elements()));
  for (float& x : v) x = static_cast<float>(mean + sd * g.next());
  return v;
}

void write_random_whisper(std::ostream& out, const std::string& what, HParams hp, GgmlType wtype, uint32_t seed,
                          const std::vector<std::string>& vocab) {
  set_file_type(hp, wtype);
  const std::vector<TensorSpec> specs = whisper_tensor_specs(hp, wtype);
  GgmlWriter w(out, what);
  w.write_header(hp, kGgmlMelBins, slaney_mel_filterbank(16000, 400, hp.n_mels), vocab);
  for (const TensorSpec& s : specs) {
    const std::vector<float> values = whisper_tensor_values(s, seed);
    w.write_tensor(s.name, s.type, s.n_dims, s.ne, values.data());
  }
}

}  // namespace npw
