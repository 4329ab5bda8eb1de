// Binds the tensors of a parsed GGML file to Whisper's architecture, checking that every expected
// tensor is present exactly once with the shape the hyper-parameters imply and that nothing else is
// there; widens the small tensors to f32 once. Also the process-wide cache that lets every stream
// naming the same file share one Model.
#include "model/model.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <set>
#include <sstream>

#include "model/quant.h"
#include "util/error.h"
#include "util/memory_ledger.h"

namespace npw {
namespace {

std::string shape_str(const int64_t* ne, int n_dims) {
  std::ostringstream os;
  os << "(";
  for (int d = 0; d < n_dims; ++d) os << (d ? ", " : "") << ne[d];
  os << ")";
  return os.str();
}

class Binder {
 public:
  Binder(const GgmlFile& f, const std::string& what) : f_(f), what_(what) {}

  // A tensor whose ggml dims must be exactly `dims` (trailing 1s may be omitted in the file).
  const TensorView& get(const std::string& name, std::initializer_list<int64_t> dims) {
    const TensorView* t = f_.find(name);
    if (!t) {
      if (f_.trailing_bytes > 0) {
        fail("truncated: the file ends " + std::to_string(f_.trailing_bytes) + " bytes into the record after tensor '" +
             (f_.tensors.empty() ? std::string("(none)") : f_.tensors.back().name) + "', and tensor '" + name +
             "' is missing");
      }
      fail("tensor '" + name + "' is missing");
    }
    used_.insert(name);
    int64_t want[4] = {1, 1, 1, 1};
    int i = 0;
    for (int64_t d : dims) want[i++] = d;
    bool ok = true;
    for (int d = 0; d < 4; ++d) ok = ok && t->ne[d] == want[d];
    // whisper.cpp's converter stores conv biases as (1, n); a plain (n) is the same data.
    if (!ok && dims.size() == 2 && want[0] == 1) ok = t->n_dims == 1 && t->ne[0] == want[1];
    if (!ok) {
      fail("tensor '" + name + "' has shape " + shape_str(t->ne, t->n_dims) + ", expected " +
           shape_str(want, static_cast<int>(dims.size())) + " from the header's hyper-parameters");
    }
    return *t;
  }

  void check_no_extra() const {
    for (const TensorView& t : f_.tensors) {
      if (!used_.count(t.name)) fail("unknown tensor '" + t.name + "' (not part of a Whisper model)");
    }
  }

  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(ErrorKind::Format, "model file '" + what_ + "': " + msg);
  }

 private:
  const GgmlFile& f_;
  const std::string& what_;
  std::set<std::string> used_;
};

}  // namespace

std::shared_ptr<const Model> Model::load(const std::string& path) {
  std::shared_ptr<Model> m(new Model());
  m->file_ = std::make_unique<MappedFile>(path);
  m->ggml_ = parse_ggml_file(m->file_->data(), m->file_->size(), path);
  m->vocab_ = std::make_unique<Vocab>(std::move(m->ggml_.vocab), m->ggml_.hparams.n_vocab);
  m->bind(path);
  // The header (vocabulary, mel filters: ~0.5 MiB) is copied out by now and never read again;
  // without this its pages stayed resident as long as the model.
  if (!m->ggml_.tensors.empty()) m->file_->release(m->file_->data(), m->ggml_.tensors.front().offset);
  m->warnings_ = m->ggml_.warnings;
  if (m->ggml_.trailing_bytes > 0) {
    // Every tensor was found, so these bytes were appended to a complete file.
    m->warnings_.push_back(std::to_string(m->ggml_.trailing_bytes) + " trailing bytes after the last tensor '" +
                           m->ggml_.tensors.back().name + "' (ignored)");
  }
  for (std::string& w : m->warnings_) w = "model file '" + path + "': " + w;
  return m;
}

Model::~Model() {
  for (const std::vector<float>& v : widened_) memory_ledger::leave(v.data());
}

const float* Model::widen(const TensorView& t) {
  std::vector<float> v(static_cast<std::size_t>(t.elements()));
  dequantize_row(t.type, t.data, v.data(), t.elements());
  memory_ledger::enter(v.data(), v.size() * sizeof(float), "model: small tensors widened to f32");
  widened_.push_back(std::move(v));
  // Read once: the copy serves from now on, the file's pages need not stay resident (the large
  // positional embeddings and convolutions are MBs).
  release_pages(t);
  return widened_.back().data();
}

std::size_t Model::release_pages(const TensorView& t) const {
  const std::vector<TensorView>& all = ggml_.tensors;
  if (all.empty() || &t < all.data() || &t >= all.data() + all.size()) return file_->release(t.data, t.nbytes);
  const std::size_t i = static_cast<std::size_t>(&t - all.data());
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t base = reinterpret_cast<uintptr_t>(file_->data());
  // A read maps up to 64 KiB of cached pages around the one it faults (the kernel's fault-around),
  // so reading a tensor maps its neighbours' pages back in, those already released included: the
  // range released reaches that far over copied neighbours too (a page not resident costs nothing).
  constexpr uintptr_t kAround = 64 * 1024;
  const uintptr_t t_lo = reinterpret_cast<uintptr_t>(t.data), t_hi = t_lo + t.nbytes;
  uintptr_t lo = (t_lo - base) / page * page + base, hi = (t_hi - base + page - 1) / page * page + base;
  lo = lo - base > kAround ? lo - kAround : base;
  hi += kAround;
  std::lock_guard<std::mutex> lock(copied_mutex_);
  if (copied_.size() != all.size()) copied_.assign(all.size(), 0);
  copied_[i] = 1;
  // Tensors are in file order, their data increasing; the bytes between two are the next one's
  // record header, and those before the first the file's header: read only while loading. The range
  // stops at the pages of the nearest tensors not copied yet (MappedFile keeps partial pages).
  for (std::size_t k = i; k-- > 0;) {
    const uintptr_t end = reinterpret_cast<uintptr_t>(all[k].data) + all[k].nbytes;
    if (end <= lo) break;
    if (!copied_[k]) {
      lo = std::max(lo, end);
      break;
    }
  }
  for (std::size_t k = i + 1; k < all.size(); ++k) {
    const uintptr_t start = reinterpret_cast<uintptr_t>(all[k].data);
    if (start >= hi) break;
    if (!copied_[k]) {
      hi = std::min(hi, start);
      break;
    }
  }
  // (Trailing bytes after the last tensor, if any, are never read; MappedFile clamps to the file.)
  return file_->release(reinterpret_cast<const void*>(lo), hi - lo);
}

void Model::bind(const std::string& what) {
  const HParams& h = ggml_.hparams;
  Binder b(ggml_, what);
  const int64_t na = h.n_audio_state, nt = h.n_text_state;

  auto norm = [&](const std::string& p, int64_t n) {
    return Norm{widen(b.get(p + ".weight", {n})), widen(b.get(p + ".bias", {n}))};
  };
  auto linear = [&](const std::string& p, int64_t n_in, int64_t n_out, bool bias) {
    Linear l;
    l.w = &b.get(p + ".weight", {n_in, n_out});
    if (bias) l.b = widen(b.get(p + ".bias", {n_out}));
    return l;
  };
  auto attention = [&](const std::string& p, int64_t n) {
    AttentionWeights a;
    a.query = linear(p + ".query", n, n, true);
    a.key = linear(p + ".key", n, n, false);
    a.value = linear(p + ".value", n, n, true);
    a.out = linear(p + ".out", n, n, true);
    return a;
  };

  encoder_.pos_emb = widen(b.get("encoder.positional_embedding", {na, h.n_audio_ctx}));
  encoder_.conv1_w = &b.get("encoder.conv1.weight", {3, h.n_mels, na});
  encoder_.conv1_b = widen(b.get("encoder.conv1.bias", {1, na}));
  encoder_.conv2_w = &b.get("encoder.conv2.weight", {3, na, na});
  encoder_.conv2_b = widen(b.get("encoder.conv2.bias", {1, na}));
  for (int i = 0; i < h.n_audio_layer; ++i) {
    const std::string p = "encoder.blocks." + std::to_string(i);
    EncoderBlock blk;
    blk.attn_ln = norm(p + ".attn_ln", na);
    blk.attn = attention(p + ".attn", na);
    blk.mlp_ln = norm(p + ".mlp_ln", na);
    blk.mlp0 = linear(p + ".mlp.0", na, 4 * na, true);
    blk.mlp2 = linear(p + ".mlp.2", 4 * na, na, true);
    encoder_.blocks.push_back(blk);
  }
  encoder_.ln_post = norm("encoder.ln_post", na);

  decoder_.pos_emb = widen(b.get("decoder.positional_embedding", {nt, h.n_text_ctx}));
  decoder_.token_emb = &b.get("decoder.token_embedding.weight", {nt, h.n_vocab});
  for (int i = 0; i < h.n_text_layer; ++i) {
    const std::string p = "decoder.blocks." + std::to_string(i);
    DecoderBlock blk;
    blk.attn_ln = norm(p + ".attn_ln", nt);
    blk.attn = attention(p + ".attn", nt);
    blk.cross_attn_ln = norm(p + ".cross_attn_ln", nt);
    blk.cross_attn = attention(p + ".cross_attn", nt);
    blk.mlp_ln = norm(p + ".mlp_ln", nt);
    blk.mlp0 = linear(p + ".mlp.0", nt, 4 * nt, true);
    blk.mlp2 = linear(p + ".mlp.2", 4 * nt, nt, true);
    decoder_.blocks.push_back(blk);
  }
  decoder_.ln = norm("decoder.ln", nt);
  b.check_no_extra();
}

std::string Model::describe() const {
  const HParams& h = hparams();
  std::string size;
  switch (h.n_audio_state) {
    case 384: size = "tiny"; break;
    case 512: size = "base"; break;
    case 768: size = "small"; break;
    case 1024: size = "medium"; break;
    case 1280: size = h.n_mels == 128 ? "large-v3" : "large"; break;
    default: size = "custom(" + std::to_string(h.n_audio_state) + "x" + std::to_string(h.n_audio_layer) + ")";
  }
  if (!vocab_->is_multilingual()) size += ".en";
  return size + " (" + ggml_ftype_name(h.ftype) + ")";
}

std::shared_ptr<const void> Model::packed(const std::string& kind,
                                          const std::function<std::shared_ptr<const void>()>& make) const {
  std::lock_guard<std::mutex> lock(packed_mutex_);
  auto it = packed_.find(kind);
  if (it != packed_.end()) return it->second;
  auto p = make();
  packed_.emplace(kind, p);
  return p;
}

ModelCache& ModelCache::instance() {
  static ModelCache cache;
  return cache;
}

std::shared_ptr<const Model> ModelCache::get(const std::string& path) {
  std::string key = path;
  if (char* real = ::realpath(path.c_str(), nullptr)) {
    key = real;
    std::free(real);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = models_.find(key);
  if (it != models_.end()) {
    if (auto m = it->second.lock()) return m;
  }
  // Loading under the lock keeps two streams from mapping and packing the same file twice.
  auto m = Model::load(path);
  models_[key] = m;
  return m;
}

}  // namespace npw
