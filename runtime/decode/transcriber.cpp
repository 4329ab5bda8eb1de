// Transcriber: binds a Model, a backend, a thread pool and the real encoder/decoder to the
// transcription loop (transcribe_engine.h). Everything per stream lives here; the Model is shared.
#include "decode/transcriber.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "backend/backend.h"
#include "nn/mel_products.h"
#include "decode/decoder_alignment_source.h"
#include "decode/decoder_logit_source.h"
#include "decode/transcribe_engine.h"
#include "model/model.h"
#include "nn/decoder.h"
#include "nn/encoder.h"
#include "util/error.h"
#include "util/flush_denormals.h"
#include "util/thread_pool.h"

namespace npw {

namespace {

// The encoder and decoder of one stream as the loop's WindowModel.
class NnWindowModel : public WindowModel {
 public:
  NnWindowModel(const Model& model, Backend& backend, ThreadPool& pool, int max_batch)
      : backend_(backend),
        encoder_(model, backend, pool),
        decoder_(model, backend, pool, max_batch),
        source_(decoder_),
        alignment_(decoder_) {}
  void encode(const float* mel, float* out) override {
    encoder_.set_output(out);
    const float* enc = encoder_.encode(mel);
    decoder_.set_audio(enc, encoder_.idle_scratch(), encoder_.idle_scratch_floats());
  }
  LogitSource& logits() override { return source_; }
  AlignmentSource* alignment() override { return &alignment_; }
  std::string backend_kind() const override { return backend_.kind(); }
  std::unique_ptr<LogMelFrontEnd> device_mel(const float* filters, int n_mels) override {
    if (!backend_.accelerator_books(nullptr)) return nullptr;
    return std::make_unique<MelProducts>(filters, n_mels, backend_.wide_range_products());
  }
  void set_cancel(const std::atomic<bool>* flag) override {
    encoder_.set_cancel(flag);
    decoder_.set_cancel(flag);
    backend_.set_cancel(flag);
  }

 private:
  Backend& backend_;
  Encoder encoder_;
  Decoder decoder_;
  DecoderLogitSource source_;
  DecoderAlignmentSource alignment_;
};

std::mutex& default_wrap_mutex() {
  static std::mutex m;
  return m;
}

WindowModelWrap& default_wrap() {
  static WindowModelWrap w;
  return w;
}

}  // namespace

void set_default_window_model_wrap(WindowModelWrap wrap) {
  std::lock_guard<std::mutex> lock(default_wrap_mutex());
  default_wrap() = std::move(wrap);
}

struct Transcriber::Impl {
  std::shared_ptr<const Model> model;
  std::string note;
  bool note_is_warning = false;
  std::unique_ptr<Backend> backend;
  Stats stats;  // the engine's, with the backend's device books added on each read
  std::shared_ptr<ThreadPool> pool;  // the stream's, shared with the backend (Backend::use_thread_pool)
  std::unique_ptr<TranscribeEngine> engine;
};

Transcriber::Transcriber(std::shared_ptr<const Model> model, const Options& options)
    : Transcriber(std::move(model), options, WindowModelWrap()) {}

Transcriber::Transcriber(std::shared_ptr<const Model> model, const Options& options, const WindowModelWrap& wrap)
    : impl_(new Impl) {
  if (!model) throw Error(ErrorKind::InvalidArgument, "Transcriber: no model");
  options.validate();
  impl_->model = std::move(model);
  const int threads = options.n_threads > 0 ? options.n_threads
                                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  impl_->pool = std::make_shared<ThreadPool>(threads);
  BackendSettings settings;
  settings.n_threads = threads;
  settings.kernel_dir = options.kernel_dir;
  settings.pool = impl_->pool;
  impl_->backend = make_backend(options.backend, settings, &impl_->note, &impl_->note_is_warning);
  // Beam search and best-of sampling decode that many hypotheses at once.
  const int max_batch = std::max({1, options.beam_size, options.best_of});
  std::unique_ptr<WindowModel> wm =
      std::make_unique<NnWindowModel>(*impl_->model, *impl_->backend, *impl_->pool, max_batch);
  WindowModelWrap chosen = wrap;
  if (!chosen) {
    std::lock_guard<std::mutex> lock(default_wrap_mutex());
    chosen = default_wrap();
  }
  if (chosen) wm = chosen(std::move(wm));
  if (!wm) throw Error(ErrorKind::InvalidArgument, "Transcriber: the window model wrap returned nothing");
  impl_->engine = std::make_unique<TranscribeEngine>(*impl_->model, options, std::move(wm), impl_->pool.get());
}

Transcriber::~Transcriber() = default;

// The work of a call runs with subnormals flushed (util/flush_denormals.h): the pool's chunks are
// already, but the decoding policy, the word alignment and the small passes run on the caller's
// thread, and a trained model's peaked heads and suppressed tokens bring values near the bottom of
// the float range there too. The caller's own mode is back on return, and inside its callback.
TranscribeResult Transcriber::transcribe(const float* samples, std::size_t n, const SegmentCallback& on_segment) {
  const ScopedFlushDenormals flush;
  if (!on_segment) return impl_->engine->transcribe(samples, n, on_segment);
  return impl_->engine->transcribe(samples, n, [&](const Segment& s) { flush.as_before([&] { on_segment(s); }); });
}

WindowResult Transcriber::transcribe_window(const float* samples, std::size_t n, bool final) {
  const ScopedFlushDenormals flush;
  return impl_->engine->transcribe_window(samples, n, final);
}

WindowResult Transcriber::transcribe_with_prompt(const float* samples, std::size_t n,
                                                 const HypothesisOptions& hypothesis) {
  const ScopedFlushDenormals flush;
  return impl_->engine->transcribe_with_prompt(samples, n, hypothesis);
}

bool Transcriber::can_time_words() const { return impl_->engine->can_time_words(); }

void Transcriber::reset() { impl_->engine->reset(); }
void Transcriber::set_cancel(const std::atomic<bool>* flag) { impl_->engine->set_cancel(flag); }
void Transcriber::set_buffer_provider(BufferProvider* provider) { impl_->engine->set_buffer_provider(provider); }
void Transcriber::release_buffers() { impl_->engine->release_buffers(); }
std::vector<std::size_t> Transcriber::buffer_sizes() const {
  const WindowBuffers& b = impl_->engine->buffers();
  return {b.mel_bytes(), b.encoder_bytes()};
}
const Stats& Transcriber::stats() const {
  impl_->stats = impl_->engine->stats();
  impl_->stats.has_device = impl_->backend->accelerator_books(&impl_->stats.device);
  return impl_->stats;
}

bool Transcriber::backend_note_is_warning() const { return impl_->note_is_warning; }
const Options& Transcriber::options() const { return impl_->engine->options(); }
const Model& Transcriber::model() const { return *impl_->model; }
std::string Transcriber::backend_note() const { return impl_->note; }
const std::vector<std::string>& Transcriber::warnings() const { return impl_->engine->warnings(); }
const std::string& Transcriber::language() const { return impl_->engine->fixed_language(); }

}  // namespace npw
