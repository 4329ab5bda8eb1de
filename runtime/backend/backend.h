// The one interface through which the encoder and decoder run their heavy operations. A backend packs
// each weight matrix once (at model load, shared by all streams) into whatever layout its kernels want,
// and multiplies activations by packed weights. The element and the runtime above this header never
// know which implementation (CPU f32, CPU int8, NPU) they talk to.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "model/ggml_file.h"

namespace npw {

class ThreadPool;

// A weight matrix W of shape [n_out][n_in] in a backend's own layout.
class PackedMatrix {
 public:
  virtual ~PackedMatrix() = default;
  virtual int n_out() const = 0;
  virtual int n_in() const = 0;
  // Bytes of weight data a product streams through (what a one-token decoder step must read per
  // matrix; benchmarks divide by it). The default is f32, 4 bytes per element; a backend that keeps a
  // narrower layout (int8 + scales, ...) reports its own.
  virtual std::size_t bytes() const {
    return static_cast<std::size_t>(n_out()) * static_cast<std::size_t>(n_in()) * sizeof(float);
  }
  // Row o of W as the n_in floats the model file's row dequantises to (bit for bit), when the packed
  // form can give them exactly; false, `out` untouched, when it cannot (quantised further, or laid
  // out in panels). The decoder reads its token embedding this way: reading the file's row instead
  // faults its pages back in (64 KiB of them a token, with the kernel's fault-around), and over a
  // stream the whole embedding would be resident twice.
  virtual bool copy_row(int o, float* out) const {
    (void)o;
    (void)out;
    return false;
  }
};

// What an accelerator backend did on its device for one stream (the NPU's books): the benchmark, the
// stats and the element's metas read them. Counts only grow; readers take differences per window.
struct AcceleratorBooks {
  std::string device;                      // e.g. "npu-emulator (npu1)"
  std::uint64_t launches = 0;              // kernel runs started
  std::uint64_t batches = 0;               // waits for a batch of runs (one runlist each on XRT)
  std::uint64_t bytes_to_device = 0;       // activation bytes synced host -> device
  std::uint64_t bytes_from_device = 0;     // result bytes synced device -> host
  std::uint64_t buffers_allocated = 0;     // device buffers this stream created
  std::uint64_t products_on_device = 0;    // linear() calls placed on the device
  std::uint64_t products_on_cpu = 0;       // linear() calls placed on the CPU (decoder steps)
  double device_seconds = 0.0;             // emulator: modelled; hardware: measured
  double run_wall_seconds = 0.0;           // host wall time waiting in device runs (emulator: its CPU work)
};

// One product of a batch that shares its input (see Backend::linear_many).
struct LinearJob {
  const PackedMatrix* W = nullptr;
  const float* bias = nullptr;  // may be nullptr
  float* Y = nullptr;
  int ldy = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "cpu", "cpu-int8", "npu": the key under which packed weights are cached in a Model.
  virtual std::string kind() const = 0;

  // Packs a 2-D weight tensor (ne[0] = n_in, ne[1] = n_out) of any GGML type. Called once per weight.
  virtual std::unique_ptr<PackedMatrix> pack(const TensorView& w) const = 0;

  // The same for a matrix that will multiply hundreds of rows at a time (the encoder's products, the
  // cross-attention keys and values of a window), never a decoder step's few: a backend may pick a
  // layout for that. By default, pack().
  virtual std::unique_ptr<PackedMatrix> pack_for_many_rows(const TensorView& w) const { return pack(w); }

  // Y[m][o] = sum_i X[m][i] * W[o][i] + bias[o]  for m < M. Rows of X are ldx floats apart, rows of Y
  // ldy floats apart. bias may be nullptr.
  virtual void linear(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
                      int ldy) = 0;

  // Several products of the same rows X by different weights (a layer's q, k and v; a window's
  // cross-attention keys and values), all with the same n_in: the same results as n calls of
  // linear(). A device backend prepares X once and runs the products as one batch (one runlist).
  virtual void linear_many(const float* X, int M, int ldx, const LinearJob* jobs, int n) {
    for (int i = 0; i < n; ++i) linear(X, M, ldx, *jobs[i].W, jobs[i].bias, jobs[i].Y, jobs[i].ldy);
  }

  // Y = GELU(X) W^T + bias (linear() of the MLP's hidden rows after their GELU) in one pass over X,
  // where a backend rounds its inputs anyway: the int8 backend applies GELU while quantising, instead
  // of a pass that writes GELU(X) back and another that reads it to quantise. X is left as it is. The
  // GELU is the one nn's gelu() computes at the active SIMD level, so Y is the same floats as gelu()
  // then linear() give. Returns false, with nothing written, where the backend has no such path; the
  // caller then does that.
  virtual bool linear_of_gelu(const float* X, int M, int ldx, const PackedMatrix& W, const float* bias, float* Y,
                              int ldy) {
    (void)X, (void)M, (void)ldx, (void)W, (void)bias, (void)Y, (void)ldy;
    return false;
  }

  // Y[m][o - o0] = sum_i X[m][i] * W[o][i] for m < M and o in [o0, o1): the product by a range of W's
  // rows, for a caller that walks a wide matrix a block at a time (the word-timing pass reduces its
  // logits over the vocabulary block by block while they are in cache instead of writing them all).
  // Called from inside a pool's chunk it runs on the calling thread. Returns false, with nothing
  // written, where the backend's layout of W has no such ranges; the caller then uses linear().
  virtual bool linear_range(const float* X, int M, int ldx, const PackedMatrix& W, int o0, int o1, float* Y,
                            int ldy) {
    (void)X, (void)M, (void)ldx, (void)W, (void)o0, (void)o1, (void)Y, (void)ldy;
    return false;
  }

  // General row-major single-precision product on activations:
  // C = alpha * op(A) * op(B) + beta * C, op(A) is M x K, op(B) is K x N.
  virtual void matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
                      const float* B, int ldb, float beta, float* C, int ldc) = 0;

  // Whether the encoder may run its attention in reduced precision (bf16 products, f32 softmax) for
  // speed: true for backends that already trade accuracy for speed (int8), false for the f32
  // reference.
  virtual bool reduced_precision_attention() const { return false; }

  // Whether one product over all rows costs less than several over blocks of rows (a device launch
  // each; or the im2col copies, for a backend that reads overlapping rows where they are): the encoder
  // then issues each convolution as one product whose im2col rows overlap in memory (ldx = stride x
  // channels, less than n_in), which such a backend's linear() must accept.
  virtual bool whole_products() const { return false; }

  // The backend for products whose inputs span a wide dynamic range (the log-mel's power spectrum:
  // per-row int8 would flush its quiet bins to zero): the int8 NPU backend answers with a bf16
  // backend on the same device; backends whose products keep the range answer with themselves.
  virtual Backend& wide_range_products() { return *this; }

  // An accelerator's books for this stream; false for backends without a device.
  virtual bool accelerator_books(AcceleratorBooks* out) const {
    (void)out;
    return false;
  }

  // A stop flag (util/cancel.h; nullptr: none) that a backend whose single products can run long (an
  // NPU kernel; a large model's encoder product on the CPU, tens of milliseconds) polls, returning
  // early with an unspecified result: its caller checks the flag after every product and discards
  // the work.
  virtual void set_cancel(const std::atomic<bool>* flag) { (void)flag; }

  // The number of threads the backend's kernels may use.
  virtual void set_threads(int n) = 0;
  virtual int threads() const = 0;

  // The pool the backend's products run on (null for a backend without one of its own), and a way to
  // hand it the stream's pool instead. A stream runs its own loops (attention, norms, the log-mel,
  // word alignment) beside the backend's products, step after step: on two pools each keeps a
  // worker per core, and a pool's workers poll for a while after each loop, so every switch from
  // one to the other put more runnable threads than cores on the machine (measured on 2 cores: a
  // tiny int8 decoder step 2.2x slower with a 300 us poll). One pool per stream avoids it.
  virtual std::shared_ptr<ThreadPool> thread_pool() const { return nullptr; }
  virtual void use_thread_pool(std::shared_ptr<ThreadPool> pool) { (void)pool; }
};

// What a backend is created with besides its name.
struct BackendSettings {
  int n_threads = 1;
  std::string kernel_dir;  // NPU kernels (empty: $NPW_KERNEL_DIR, else the installed default)
  // The stream's pool (n_threads threads), given to the backend with use_thread_pool(); null: the
  // backend makes its own.
  std::shared_ptr<ThreadPool> pool;
};

// Creates a backend by name ("auto", "cpu", "cpu-int8", "npu", "npu-emulator"). Throws npw::Error(InvalidArgument) for
// an unknown name and npw::Error(Unavailable) when the named hardware is missing. For "auto",
// `chosen_note` (if given) receives a sentence explaining a fallback (e.g. "no NPU: using cpu").
std::unique_ptr<Backend> make_backend(const std::string& name, int n_threads, std::string* chosen_note = nullptr);
// The same with every setting. `note_is_warning` (if given) tells whether the note reports hardware
// that is present but unusable (a warning) rather than absent (information).
std::unique_ptr<Backend> make_backend(const std::string& name, const BackendSettings& settings,
                                      std::string* chosen_note, bool* note_is_warning = nullptr);

}  // namespace npw
