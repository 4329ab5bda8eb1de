// The work each measured stage must do, counted from the model's dimensions, so that a time can be
// turned into a rate and compared with the machine's ceilings:
//  - encoder FLOPs per 30 s window: every matrix product (both convolutions, Q/K/V/out projections,
//    attention Q K^T and P V, the MLP), 2 FLOPs per multiply-add. Bias adds, LayerNorm, GELU and
//    softmax are not counted: they are O(n_ctx * n_state) next to O(n_ctx * n_state^2) products.
//  - decoder bytes per token for one sequence: the weight matrices a one-token step multiplies by
//    (self-attention Q/K/V/out, cross-attention Q/out, MLP, and the tied token embedding for the
//    logits) in the size the backend keeps them (PackedMatrix::bytes()); cross-attention K/V weights
//    are used once per window, not per token. Activations streamed per token (cross-attention keys
//    and values, the self-attention cache) are counted separately.
#pragma once

#include <cstdint>

namespace npw {

class Backend;
class Model;
struct HParams;

struct EncoderCost {
  double conv_flops = 0;       // conv1 + conv2
  double projection_flops = 0; // Q, K, V, out, all layers
  double attention_flops = 0;  // Q K^T and P V, all layers
  double mlp_flops = 0;        // both MLP products, all layers
  double total() const { return conv_flops + projection_flops + attention_flops + mlp_flops; }
};

EncoderCost encoder_cost(const HParams& hp);

struct DecoderTokenCost {
  double weight_bytes = 0;      // packed weight matrices read per token
  double weight_params = 0;     // their element count
  // Keys and values at the precision the decoder keeps them for this backend and CPU: f32 on the
  // reference; halves on a reduced-precision backend (self-attention cache, and cross-attention where
  // the CPU does not take the int8 attention task); int8 with a scale per key and head otherwise.
  double cross_kv_bytes = 0;    // cross-attention keys and values read per token
  double self_kv_bytes = 0;     // self-attention cache read per token at the given context
};

// Packs one matrix of each distinct (type, shape) with `backend` to learn its size, so a backend
// with its own layout reports its own bytes; context = tokens already in the sequence.
DecoderTokenCost decoder_token_cost(const Model& model, const Backend& backend, int context);

}  // namespace npw
