// Bounds-checked parser of whisper.cpp's GGML Whisper files. Every read goes through Reader, which
// knows how many bytes remain, so no field value can make the parser read outside the file or
// allocate more than the file could hold.
#include "model/ggml_file.h"

#include <cstdio>
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
// n_dims, name length and type: what a tensor record holds before its dimensions.
constexpr std::size_t kRecordHeaderBytes = 12;

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

// Every released Whisper model has attention heads 64 wide. No tensor shape depends on the head
// count, so an edited count loads and computes nonsense; it is named where the width says which
// released model this is (custom widths, like the bundled test model's 64, have no reference).
void check_head_width(const char* field, int32_t state, int32_t heads, std::vector<std::string>& warnings) {
  static const int32_t kReleasedWidths[] = {384, 512, 768, 1024, 1280};
  bool released = false;
  for (int32_t w : kReleasedWidths) released = released || w == state;
  if (!released || state / heads == 64) return;
  warnings.push_back(std::string("header field ") + field + " = " + std::to_string(heads) + " gives attention heads " +
                     std::to_string(state / heads) + " wide; every Whisper model of width " + std::to_string(state) +
                     " has " + std::to_string(state / 64) + " heads of 64 (the header may have been edited; the "
                     "output will be wrong)");
}

HParams read_hparams(Reader& r, std::vector<std::string>& warnings) {
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
  check_head_width("n_audio_head", h.n_audio_state, h.n_audio_head, warnings);
  check_head_width("n_text_head", h.n_text_state, h.n_text_head, warnings);
  if (ftype < 0) r.fail("header field ftype is negative");
  h.qntvr = ftype / 1000;
  h.ftype = ftype % 1000;
  if (!ggml_ftype_is_known(h.ftype)) {
    r.fail("header field ftype = " + std::to_string(h.ftype) + " is not a known GGML file type");
  }
  return h;
}

bool ftype_is_quantized(int32_t ftype) { return ftype != 0 && ftype != 1; }

// The weight type a header ftype announces for the large matrices (whisper.cpp's converter and
// quantize tool keep norms, biases and a few small tensors in f32 or f16 whatever the ftype).
GgmlType ftype_main_type(int32_t ftype) {
  switch (ftype) {
    case 0: return GgmlType::F32;
    case 1: return GgmlType::F16;
    case 2: return GgmlType::Q4_0;
    case 3: case 4: return GgmlType::Q4_1;
    case 7: return GgmlType::Q8_0;
    case 8: return GgmlType::Q5_0;
    default: return GgmlType::Q5_1;
  }
}

// Tensors carry their own types, which is what the loader reads by; a header ftype that does not
// describe them is only a label (describe(), statistics), so it is a warning, not a refusal.
void check_ftype(GgmlFile& f) {
  const int32_t ft = f.hparams.ftype;
  const GgmlType main = ftype_main_type(ft);
  const TensorView* odd = nullptr;
  std::size_t n_odd = 0;
  bool main_seen = false;
  for (const TensorView& t : f.tensors) {
    main_seen = main_seen || t.type == main;
    const bool fits = t.type == main || (ft != 0 && (t.type == GgmlType::F32 || t.type == GgmlType::F16));
    if (!fits) {
      if (!odd) odd = &t;
      ++n_odd;
    }
  }
  if (f.tensors.empty()) return;
  std::string msg;
  if (odd) {
    msg = "tensor '" + odd->name + "'" + (n_odd > 1 ? " and " + std::to_string(n_odd - 1) + " more" : "") + " of type " +
          ggml_type_name(odd->type);
  } else if (!main_seen) {
    const TensorView* largest = &f.tensors.front();
    for (const TensorView& t : f.tensors) {
      if (t.nbytes > largest->nbytes) largest = &t;
    }
    msg = "no tensor is " + std::string(ggml_type_name(main)) + "; the largest, '" + largest->name + "', is " +
          ggml_type_name(largest->type);
  } else {
    return;
  }
  f.warnings.push_back("header field ftype = " + std::to_string(ft) + " (" + ggml_ftype_name(ft) +
                       ") disagrees with the tensors: " + msg + "; each tensor is read by its own type");
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
  f.hparams = read_hparams(r, f.warnings);

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
  const std::size_t filters_at = r.pos();
  const uint8_t* filt = r.bytes(n_filter * 4, "mel filters");
  f.mel_filters.resize(n_filter);
  std::memcpy(f.mel_filters.data(), filt, n_filter * 4);
  // A count larger than the file's filters reads the vocabulary as filters. Its count, a small
  // integer, would be a filter's first weight of at most 1e-40 (a denormal): no filterbank holds one,
  // so such a value at the start of a filter is where the stored filters end.
  for (int32_t filter = 1; filter < f.mel_n_mel; ++filter) {
    int32_t count;
    std::memcpy(&count, filt + static_cast<std::size_t>(filter) * static_cast<std::size_t>(f.mel_n_fft) * 4, 4);
    if (count > 0 && count <= f.hparams.n_vocab) {
      r.fail("the mel filter block holds " + std::to_string(filter) + " filters, not n_mels = " +
             std::to_string(f.mel_n_mel) + " (filter " + std::to_string(filter) + " starts with the vocabulary count " +
             std::to_string(count) + ", at byte " +
             std::to_string(filters_at + static_cast<std::size_t>(filter) * static_cast<std::size_t>(f.mel_n_fft) * 4) +
             ")");
    }
  }
  for (std::size_t i = 0; i < n_filter; ++i) {
    const float v = f.mel_filters[i];
    if (v >= 0.0f && v <= 1e6f) continue;
    const std::size_t filter = i / static_cast<std::size_t>(f.mel_n_fft);
    const std::size_t bin = i % static_cast<std::size_t>(f.mel_n_fft);
    r.fail("mel filter " + std::to_string(filter) + " bin " + std::to_string(bin) + " holds " + std::to_string(v) +
           " (a filter weight must be finite and not negative)");
  }

  const int32_t n_stored = r.i32("vocabulary count");
  if (n_stored < 0 || n_stored > f.hparams.n_vocab) {
    float as_float;
    std::memcpy(&as_float, &n_stored, 4);
    // Filter weights lie in [0, 1): a count that reads as one means the file holds more filters.
    const bool looks_like_filter = n_stored > 0 && as_float > 0.0f && as_float < 1.0f;
    r.fail("vocabulary count " + std::to_string(n_stored) + " is outside [0, n_vocab = " +
           std::to_string(f.hparams.n_vocab) + "]" +
           (looks_like_filter ? " and reads as a filter weight: the file may hold more mel filters than n_mels = " +
                                    std::to_string(f.mel_n_mel)
                              : std::string()));
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
    if (r.remaining() < kRecordHeaderBytes) {
      // Too short for a record: bytes appended to a complete file, or a file cut inside a record;
      // only the architecture check (Model) can tell which, from whether a tensor is missing.
      f.trailing_bytes = r.remaining();
      break;
    }
    TensorView t;
    const std::size_t record_at = r.pos();
    const int32_t n_dims = r.i32("tensor n_dims");
    const int32_t name_len = r.i32("tensor name length");
    const int32_t type = r.i32("tensor type");
    std::string where = "tensor #" + std::to_string(f.tensors.size()) + " (record at byte " + std::to_string(record_at) + ")";
    // A bad record header after a good tensor is as likely that tensor's damage (a wrong dimension
    // ends its data early or late) or bytes appended to the file: say so.
    const std::string after = f.tensors.empty() ? std::string()
                                                : "; it follows tensor '" + f.tensors.back().name +
                                                      "': that tensor's header may be damaged, or these are "
                                                      "trailing bytes after the last tensor";
    if (n_dims < 1 || n_dims > 4) r.fail(where + " has n_dims = " + std::to_string(n_dims) + ", expected 1..4" + after);
    if (name_len < 1 || name_len > kMaxNameLen) {
      r.fail(where + " has name length " + std::to_string(name_len) + ", expected 1.." + std::to_string(kMaxNameLen) +
             after);
    }
    if (!ggml_type_is_known(type)) {
      r.fail(where + " has unknown tensor type " + std::to_string(type) +
             " (known: 0 f32, 1 f16, 2 q4_0, 3 q4_1, 6 q5_0, 7 q5_1, 8 q8_0)" + after);
    }
    t.type = static_cast<GgmlType>(type);
    t.n_dims = n_dims;
    for (int d = 0; d < n_dims; ++d) {
      const int32_t ne = r.i32("tensor dimension");
      if (ne < 1 || ne > kMaxDim) r.fail(where + " has dimension " + std::to_string(d) + " = " + std::to_string(ne));
      t.ne[d] = ne;
    }
    const uint8_t* name = r.bytes(static_cast<std::size_t>(name_len), "tensor name");
    for (int32_t i = 0; i < name_len; ++i) {
      // Tensor names are ASCII identifiers; anything else means n_dims, the name length or a
      // dimension of this record is wrong and the name was read from the wrong bytes.
      if (name[i] < 0x20 || name[i] > 0x7e) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", name[i]);
        r.fail(where + " has a name holding byte " + hex + " at position " + std::to_string(i) +
               ": its header (n_dims, name length or dimensions) is damaged" + after);
      }
    }
    t.name.assign(reinterpret_cast<const char*>(name), static_cast<std::size_t>(name_len));
    const std::string tw = "tensor '" + t.name + "'";

    if (t.ne[0] % ggml_block_elems(t.type) != 0) {
      r.fail(tw + " of type " + ggml_type_name(t.type) + " has a row of " + std::to_string(t.ne[0]) +
             " elements, not a multiple of its block size " + std::to_string(ggml_block_elems(t.type)));
    }
    if (ggml_type_is_quantized(t.type) && f.hparams.qntvr != 2) {
      const int32_t ft = f.hparams.ftype;
      if (f.hparams.qntvr == 0 && !ftype_is_quantized(ft)) {
        // The quantisation version lives in the ftype field (ftype / 1000): a header that says the
        // file holds no quantized tensors cannot say which block layout this one uses.
        throw Error(ErrorKind::Format, "model file '" + what + "': header field ftype = " + std::to_string(ft) + " (" +
                                           ggml_ftype_name(ft) + ") disagrees with " + tw + " of type " +
                                           ggml_type_name(t.type) +
                                           ", and without a quantized ftype the file gives no quantisation version");
      }
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
  check_ftype(f);
  return f;
}

}  // namespace npw
