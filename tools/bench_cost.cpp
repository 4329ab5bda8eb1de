// FLOP and byte counts from HParams; see bench_cost.h for what is counted and why.
#include "bench_cost.h"

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "backend/backend.h"
#include "model/model.h"
#include "nn/int8_key_values.h"

namespace npw {

EncoderCost encoder_cost(const HParams& hp) {
  const double ctx = hp.n_audio_ctx, d = hp.n_audio_state, mels = hp.n_mels, layers = hp.n_audio_layer;
  const double frames = 2 * ctx;  // conv1 runs at the mel frame rate, conv2 halves it
  EncoderCost c;
  c.conv_flops = 2 * frames * d * (3 * mels) + 2 * ctx * d * (3 * d);
  c.projection_flops = layers * 4 * (2 * ctx * d * d);
  c.attention_flops = layers * 2 * (2 * ctx * ctx * d);  // summed over heads: n_head * d_head = d
  c.mlp_flops = layers * 2 * (2 * ctx * d * (4 * d));
  return c;
}

DecoderTokenCost decoder_token_cost(const Model& model, const Backend& backend, int context) {
  const HParams& hp = model.hparams();
  const DecoderWeights& w = model.decoder();
  std::vector<const TensorView*> per_token;
  for (const DecoderBlock& b : w.blocks) {
    for (const Linear* l : {&b.attn.query, &b.attn.key, &b.attn.value, &b.attn.out, &b.cross_attn.query,
                            &b.cross_attn.out, &b.mlp0, &b.mlp2}) {
      per_token.push_back(l->w);
    }
  }
  per_token.push_back(w.token_emb);

  std::map<std::tuple<int, int64_t, int64_t>, std::size_t> bytes_of;
  DecoderTokenCost c;
  for (const TensorView* t : per_token) {
    const auto key = std::make_tuple(static_cast<int>(t->type), t->ne[0], t->ne[1]);
    auto it = bytes_of.find(key);
    if (it == bytes_of.end()) it = bytes_of.emplace(key, backend.pack(*t)->bytes()).first;
    c.weight_bytes += static_cast<double>(it->second);
    c.weight_params += static_cast<double>(t->ne[0]) * static_cast<double>(t->ne[1]);
  }
  const double d = hp.n_text_state, layers = hp.n_text_layer, heads = hp.n_text_head, ctx = hp.n_audio_ctx;
  const bool reduced = backend.reduced_precision_attention();
  const bool int8 = reduced && hp.n_text_head > 0 && int8_key_values_wanted(hp.n_text_state / hp.n_text_head);
  const double kv_element = reduced ? 2.0 : 4.0;
  c.cross_kv_bytes = int8 ? layers * (2 * ctx * d + ctx * heads * sizeof(float)) : layers * 2 * ctx * d * kv_element;
  c.self_kv_bytes = layers * 2 * static_cast<double>(context) * d * kv_element;
  return c;
}

}  // namespace npw
