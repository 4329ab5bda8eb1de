// Random-weight Whisper models of real dimensions, laid out and typed exactly as whisper.cpp's converter
// and quantizer lay them out. Nothing here is trained: these files exist so that loading, memory,
// speed and numerical agreement between backends can be tested at every model size without
// downloading weights. The weights are a pure function of (dims, type, seed), on every platform.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "model/ggml_types.h"
#include "model/hparams.h"

namespace npw {

// Dimensions of a named model: tiny, tiny.en, base, base.en, small, small.en, medium, medium.en,
// large-v3, and "test" (the 64-wide, 2-layer model of tests/data). ftype/qntvr are left 0.
// Throws npw::Error(InvalidArgument) listing the known names.
HParams whisper_dims(const std::string& name);
const std::vector<std::string>& whisper_dims_names();

// Header ftype and quantisation version for a file whose weights are `wtype`.
void set_file_type(HParams& hp, GgmlType wtype);

struct TensorSpec {
  std::string name;
  GgmlType type = GgmlType::F32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // ggml order
  int64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

// The storage type whisper.cpp gives a tensor in a model of weight type `wtype`: f32 models are all
// f32; otherwise 1-D tensors, the conv biases and the positional embeddings stay f32; f16 models store
// everything else as f16; quantized models quantize 2-D tensors whose rows are whole blocks and keep
// the rest (the 3-D conv kernels) f16.
GgmlType whisper_tensor_type(const std::string& name, int n_dims, const int64_t* ne, GgmlType wtype);

// Every tensor whisper.cpp requires, in the order its converter writes them.
std::vector<TensorSpec> whisper_tensor_specs(const HParams& hp, GgmlType wtype);

// The tensor's f32 values (before storage-type rounding), from its own generator seeded with
// (seed, name): OpenAI sinusoids for the encoder positional embedding, N(1, 0.05) for LayerNorm gains,
// N(0, s) elsewhere with the scales of the test model (tests/data/manifest.json "init").
std::vector<float> whisper_tensor_values(const TensorSpec& spec, uint32_t seed);

// A complete model file: header (ftype from wtype), Slaney mel filters, `vocab`, every tensor.
void write_random_whisper(std::ostream& out, const std::string& what, HParams hp, GgmlType wtype, uint32_t seed,
                          const std::vector<std::string>& vocab);

}  // namespace npw
