// The immutable Whisper model: hyper-parameters, mel filters, vocabulary and views of every weight
// inside the mmapped file, checked against the architecture (every tensor present once, right shape,
// nothing unknown). Small tensors (biases, norms, positional embeddings, convolutions) are widened to
// f32 once here; the large matrices are packed by each backend (see backend/backend.h) once per model.
// A Model is safe to share between threads; ModelCache makes every stream that names the same file
// share one.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/ggml_file.h"
#include "model/hparams.h"
#include "model/mapped_file.h"
#include "model/vocab.h"

namespace npw {

// A weight matrix of a linear layer: w has ne[0] = inputs, ne[1] = outputs (PyTorch [out, in]).
struct Linear {
  const TensorView* w = nullptr;
  const float* b = nullptr;  // f32 bias of length out, or nullptr (attention key)
};
struct Norm {
  const float* w = nullptr;
  const float* b = nullptr;
};
struct AttentionWeights {
  Linear query, key, value, out;
};
struct EncoderBlock {
  Norm attn_ln;
  AttentionWeights attn;
  Norm mlp_ln;
  Linear mlp0, mlp2;
};
struct DecoderBlock {
  Norm attn_ln;
  AttentionWeights attn;
  Norm cross_attn_ln;
  AttentionWeights cross_attn;
  Norm mlp_ln;
  Linear mlp0, mlp2;
};
struct EncoderWeights {
  // The convolutions' weights as the file holds them (any type): the encoder dequantises them only
  // to pack them, so no widened copy stays next to the packed one.
  const TensorView* conv1_w = nullptr;  // ne = (3, n_mels, n_audio_state): [n_audio_state][n_mels][3]
  const float* conv1_b = nullptr;       // [n_audio_state]
  const TensorView* conv2_w = nullptr;  // ne = (3, n_audio_state, n_audio_state)
  const float* conv2_b = nullptr;  // [n_audio_state]
  const float* pos_emb = nullptr;  // [n_audio_ctx][n_audio_state]
  std::vector<EncoderBlock> blocks;
  Norm ln_post;
};
struct DecoderWeights {
  const TensorView* token_emb = nullptr;  // ne = (n_text_state, n_vocab); also the tied output projection
  const float* pos_emb = nullptr;         // [n_text_ctx][n_text_state]
  std::vector<DecoderBlock> blocks;
  Norm ln;
};

class Model {
 public:
  // Maps and validates `path`. Throws npw::Error naming the file and what is wrong.
  static std::shared_ptr<const Model> load(const std::string& path);

  const std::string& path() const { return file_->path(); }
  // Bytes of the mapped model file (what peak RSS is measured against).
  std::size_t file_size() const { return file_->size(); }
  const HParams& hparams() const { return ggml_.hparams; }
  const std::vector<float>& mel_filters() const { return ggml_.mel_filters; }  // [n_mels][201]
  int n_fft_bins() const { return ggml_.mel_n_fft; }
  const Vocab& vocab() const { return *vocab_; }
  const EncoderWeights& encoder() const { return encoder_; }
  const DecoderWeights& decoder() const { return decoder_; }
  const std::vector<TensorView>& tensors() const { return ggml_.tensors; }
  // What loaded but looks wrong (see GgmlFile::warnings, trailing bytes), each naming the file; the
  // CLI prints them and the element posts them as GStreamer warnings.
  const std::vector<std::string>& warnings() const { return warnings_; }
  // A short description like "tiny.en (f16)" for logs and statistics.
  std::string describe() const;

  // Backend-specific packed weights, made once per model and kind (a backend names its kind).
  // `make` is called at most once per kind, under a lock; the result is shared by all streams.
  std::shared_ptr<const void> packed(const std::string& kind,
                                     const std::function<std::shared_ptr<const void>()>& make) const;

  // Called by the packers once a weight is in a backend's own layout: drops the resident pages of its
  // bytes in the mapped file, so that the model is not held twice (see MappedFile::release). Reading
  // the tensor afterwards stays correct (the pages fault back in from the file). A tensor whose data
  // lies outside the mapping (a widened copy) is left alone. Returns the bytes released.
  // A page the tensor shares with its neighbours (their data, the records' headers between them) is
  // dropped too once every tensor on it has been copied, so that after packing no page of the file
  // stays resident, not even the edges of the small tensors.
  std::size_t release_pages(const TensorView& t) const;
  // Copies n bytes of a tensor's data at p into dst without mapping them in (MappedFile::read); false
  // if p is not in the file or the read fails (read the mapping then).
  bool read_bytes(const void* p, std::size_t n, void* dst) const { return file_->read(p, n, dst); }

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model();

 private:
  Model() = default;
  void bind(const std::string& what);
  const float* widen(const TensorView& t);

  std::unique_ptr<MappedFile> file_;
  GgmlFile ggml_;
  std::unique_ptr<Vocab> vocab_;
  EncoderWeights encoder_;
  DecoderWeights decoder_;
  std::vector<std::vector<float>> widened_;  // f32 copies of the small tensors
  std::vector<std::string> warnings_;

  // Which tensors (by position in tensors()) are copied out (widened or packed), for release_pages.
  mutable std::mutex copied_mutex_;
  mutable std::vector<char> copied_;

  mutable std::mutex packed_mutex_;
  mutable std::map<std::string, std::shared_ptr<const void>> packed_;
};

// path -> shared model; the last user frees it. Thread-safe.
class ModelCache {
 public:
  static ModelCache& instance();
  // Returns the loaded model for `path` (canonicalised), loading it if no live user holds it.
  std::shared_ptr<const Model> get(const std::string& path);

 private:
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<const Model>> models_;
};

}  // namespace npw
