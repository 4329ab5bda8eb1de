// Bounds-checked parser of whisper.cpp's GGML Whisper files. Every read goes through Reader, which
// knows how many bytes remain, so no field value can make the parser read outside the file or
// allocate more than the file could hold.
#include "model/ggml_file.h"

#include <cstring>
#include <limits>
#include <sstream>

#include "util/error.h"

namespace npw {
namespace {

// Upper bounds far above any released Whisper model, low enough that products cannot overflow.
constexpr int32_t kMaxDim = 1 << 20;
constexpr int32_t kMaxNameLen = 256;
constexpr int32_t kMaxTokenLen = 1024;

class Reader {
 public:
  Reader(const uint8_t* p, std::size_t n, const std::string& what) : p_(p), n_(n), what_(what) {}

  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return n_ - pos_; }

  [[noreturn]] void fail(const std::string& msg) const {
    std::ostringstream os;
    os << "model file '" << what_ << "': " << msg << " (at byte " << pos_ << " of " << n_ << ")";
    throw Error(ErrorKind::Format, os.str());
  }

  void need(std::size_t bytes, const char* field) const {
    if (bytes > remaining()) {
      std::ostringstream os;
      os << "truncated: " << field << " needs " << bytes << " bytes, only " << remaining() << " left";
      fail(os.str());
    }
  }

  int32_t i32(const char* field) {
    need(4, field);
    int32_t v;
    std::memcpy(&v, p_ + pos_, 4);
    pos_ += 4;
    return v;
  }
  uint32_t u32(const char* field) {
    need(4, field);
    uint32_t v;
    std::memcpy(&v, p_ + pos_, 4);
    pos_ += 4;
    return v;
  }
  const uint8_t* bytes(std::size_t count, const char* field) {
    need(count, field);
    const uint8_t* q = p_ + pos_;
    pos_ += count;
    return q;
  }

 private:
  const uint8_t* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  const std::string& what_;
};

void check_hparam(const Reader& r, const char* name, int32_t v, int32_t lo, int32_t hi) {
  if (v < lo || v > hi) {
    std::ostringstream os;
    os << "header field " << name << " = " << v << " is outside the plausible range [" << lo << ", " << hi << "]";
    r.fail(os.str());
  }
}

HParams read_hparams(Reader& r) {
  HParams h;
  h.n_vocab = r.i32("n_vocab");
  h.n_audio_ctx = r.i32("n_audio_ctx");
  h.n_audio_state = r.i32("n_audio_state");
  h.n_audio_head = r.i32("n_audio_head");
  h.n_audio_layer = r.i32("n_audio_layer");
  h.n_text_ctx = r.i32("n_text_ctx");
  h.n_text_state = r.i32("n_text_state");
  h.n_text_head = r.i32("n_text_head");
  h.n_text_layer = r.i32("n_text_layer");
  h.n_mels = r.i32("n_mels");
  int32_t ftype = r.i32("ftype");

  // Whisper's special tokens sit after the 50257 GPT-2 ids and the languages; 51864..51866 are the
  // released vocabularies, a little slack admits future variants.
  check_hparam(r, "n_vocab", h.n_vocab, 51864, 51900);
  check_hparam(r, "n_audio_ctx", h.n_audio_ctx, 1, 1500);
  check_hparam(r, "n_audio_state", h.n_audio_state, 1, 16384);
  check_hparam(r, "n_audio_head", h.n_audio_head, 1, 256);
  check_hparam(r, "n_audio_layer", h.n_audio_layer, 1, 256);
  check_hparam(r, "n_text_ctx", h.n_text_ctx, 4, 448);
  check_hparam(r, "n_text_state", h.n_text_state, 1, 16384);
  check_hparam(r, "n_text_head", h.n_text_head, 1, 256);
  check_hparam(r, "n_text_layer", h.n_text_layer, 1, 256);
  check_hparam(r, "n_mels", h.n_mels, 1, 512);
  if (h.n_audio_state % h.n_audio_head != 0) r.fail("n_audio_state is not a multiple of n_audio_head");
  if (h.n_text_state % h.n_text_head != 0) r.fail("n_text_state is not a multiple of n_text_head");
  if (ftype < 0) r.fail("header field ftype is negative");
  h.qntvr = ftype / 1000;
  h.ftype = ftype % 1000;
  if (!ggml_ftype_is_known(h.ftype)) {
    r.fail("header field ftype = " + std::to_string(h.ftype) + " is not a known GGML file type");
  }
  return h;
}

}  // namespace

const TensorView* GgmlFile::find(const std::string& name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &tensors[it->second];
}

GgmlFile parse_ggml_file(const uint8_t* bytes, std::size_t size, const std::string& what) {
  Reader r(bytes, size, what);
  GgmlFile f;

  uint32_t magic = r.u32("magic");
  if (magic != kGgmlMagic) {
    std::ostringstream os;
    os << "bad magic 0x" << std::hex << magic << ", expected 0x" << kGgmlMagic
       << " (not a whisper.cpp GGML file; GGUF and PyTorch checkpoints are not accepted)";
    r.fail(os.str());
  }
  f.hparams = read_hparams(r);

  f.mel_n_mel = r.i32("mel filters n_mel");
  f.mel_n_fft = r.i32("mel filters n_fft");
  if (f.mel_n_mel != f.hparams.n_mels) {
    r.fail("mel filter block has " + std::to_string(f.mel_n_mel) + " filters, header says n_mels = " +
           std::to_string(f.hparams.n_mels));
  }
  if (f.mel_n_fft != 201) {
    r.fail("mel filter block has n_fft = " + std::to_string(f.mel_n_fft) + ", expected 201 (400-point FFT)");
  }
  const std::size_t n_filter = static_cast<std::size_t>(f.mel_n_mel) * static_cast<std::size_t>(f.mel_n_fft);
  const uint8_t* filt = r.bytes(n_filter * 4, "mel filters");
  f.mel_filters.resize(n_filter);
  std::memcpy(f.mel_filters.data(), filt, n_filter * 4);
  for (float v : f.mel_filters) {
    if (!(v >= 0.0f) || v > 1e6f) r.fail("mel filter block holds a negative, NaN or huge value");
  }

  const int32_t n_stored = r.i32("vocabulary count");
  if (n_stored < 0 || n_stored > f.hparams.n_vocab) {
    r.fail("vocabulary count " + std::to_string(n_stored) + " is outside [0, n_vocab = " +
           std::to_string(f.hparams.n_vocab) + "]");
  }
  // Each stored token needs at least its 4-byte length: refuse counts the file cannot hold before
  // reserving memory for them.
  r.need(static_cast<std::size_t>(n_stored) * 4, "vocabulary");
  f.vocab.reserve(static_cast<std::size_t>(n_stored));
  for (int32_t i = 0; i < n_stored; ++i) {
    const uint32_t len = r.u32("token length");
    if (len > static_cast<uint32_t>(kMaxTokenLen)) {
      r.fail("token " + std::to_string(i) + " has length " + std::to_string(len) + " (more than " +
             std::to_string(kMaxTokenLen) + " bytes)");
    }
    const uint8_t* s = r.bytes(len, "token bytes");
    f.vocab.emplace_back(reinterpret_cast<const char*>(s), len);
  }

  while (r.remaining() > 0) {
    TensorView t;
    const int32_t n_dims = r.i32("tensor n_dims");
    const int32_t name_len = r.i32("tensor name length");
    const int32_t type = r.i32("tensor type");
    const std::string where = "tensor #" + std::to_string(f.tensors.size());
    if (n_dims < 1 || n_dims > 4) r.fail(where + " has n_dims = " + std::to_string(n_dims) + ", expected 1..4");
    if (name_len < 1 || name_len > kMaxNameLen) {
      r.fail(where + " has name length " + std::to_string(name_len) + ", expected 1.." + std::to_string(kMaxNameLen));
    }
    if (!ggml_type_is_known(type)) {
      r.fail(where + " has unknown tensor type " + std::to_string(type) +
             " (known: 0 f32, 1 f16, 2 q4_0, 3 q4_1, 6 q5_0, 7 q5_1, 8 q8_0)");
    }
    t.type = static_cast<GgmlType>(type);
    t.n_dims = n_dims;
    for (int d = 0; d < n_dims; ++d) {
      const int32_t ne = r.i32("tensor dimension");
      if (ne < 1 || ne > kMaxDim) r.fail(where + " has dimension " + std::to_string(d) + " = " + std::to_string(ne));
      t.ne[d] = ne;
    }
    const uint8_t* name = r.bytes(static_cast<std::size_t>(name_len), "tensor name");
    t.name.assign(reinterpret_cast<const char*>(name), static_cast<std::size_t>(name_len));
    const std::string tw = "tensor '" + t.name + "'";

    if (t.ne[0] % ggml_block_elems(t.type) != 0) {
      r.fail(tw + " of type " + ggml_type_name(t.type) + " has a row of " + std::to_string(t.ne[0]) +
             " elements, not a multiple of its block size " + std::to_string(ggml_block_elems(t.type)));
    }
    if (ggml_type_is_quantized(t.type) && f.hparams.qntvr != 2) {
      throw Error(ErrorKind::Unsupported,
                  "model file '" + what + "': " + tw + " is quantized with GGML quantisation version " +
                      std::to_string(f.hparams.qntvr) + "; only version 2 (whisper.cpp since 2023) is supported");
    }
    // Each factor is at most 2^20 and a row at most a few MiB, so the product fits in 128 bits; it is
    // compared with what the file still holds before anything is trusted.
    unsigned __int128 need = ggml_row_bytes(t.type, t.ne[0]);
    for (int d = 1; d < 4; ++d) need *= static_cast<uint64_t>(t.ne[d]);
    if (need > r.remaining()) {
      std::ostringstream os;
      os << "truncated: " << tw << " data needs " << static_cast<unsigned long long>(need) << " bytes, only "
         << r.remaining() << " left (or its dimensions are wrong)";
      r.fail(os.str());
    }
    const std::size_t nbytes = static_cast<std::size_t>(need);
    t.nbytes = nbytes;
    t.offset = r.pos();
    t.data = r.bytes(nbytes, "tensor data");
    if (f.index.count(t.name)) r.fail(tw + " appears twice");
    f.index.emplace(t.name, f.tensors.size());
    f.tensors.push_back(std::move(t));
  }
  return f;
}

}  // namespace npw
