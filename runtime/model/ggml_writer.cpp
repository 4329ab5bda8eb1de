// Serialisation of the whisper.cpp GGML layout (see ggml_writer.h). Arguments are validated here so
// that a file we write is always one our parser, and whisper.cpp, accept.
#include "model/ggml_writer.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "model/ggml_file.h"
#include "model/quant.h"
#include "util/error.h"

// Floats and int32 fields are written as their in-memory bytes.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npuwhisper assumes a little-endian host");

namespace npw {

namespace {

// Rows are quantised and written in chunks of about this many elements to bound the scratch memory.
constexpr int64_t kChunkElems = int64_t{1} << 20;

}  // namespace

GgmlWriter::GgmlWriter(std::ostream& out, std::string what) : out_(out), what_(std::move(what)) {}

void GgmlWriter::put(const void* p, std::size_t n) {
  out_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
  if (!out_) throw Error(ErrorKind::Io, what_ + ": write failed after " + std::to_string(bytes_) + " bytes");
  bytes_ += n;
}

void GgmlWriter::put_i32(int32_t v) { put(&v, sizeof v); }

void GgmlWriter::write_header(const HParams& hp, int32_t n_fft, const std::vector<float>& mel_filters,
                              const std::vector<std::string>& vocab) {
  if (header_done_) throw Error(ErrorKind::Internal, what_ + ": header written twice");
  if (hp.n_mels <= 0 || n_fft <= 0) {
    throw Error(ErrorKind::InvalidArgument, what_ + ": mel filter shape " + std::to_string(hp.n_mels) + " x " +
                                                std::to_string(n_fft) + " is empty");
  }
  if (mel_filters.size() != static_cast<std::size_t>(hp.n_mels) * static_cast<std::size_t>(n_fft)) {
    throw Error(ErrorKind::InvalidArgument, what_ + ": " + std::to_string(mel_filters.size()) +
                                                " mel filter values given for n_mels " + std::to_string(hp.n_mels) +
                                                " x n_fft " + std::to_string(n_fft));
  }
  if (hp.qntvr < 0 || hp.qntvr > 2000000 || hp.ftype < 0 || hp.ftype >= 1000) {
    throw Error(ErrorKind::InvalidArgument, what_ + ": ftype " + std::to_string(hp.ftype) + " with quantisation version " +
                                                std::to_string(hp.qntvr) + " cannot be encoded");
  }
  const uint32_t magic = kGgmlMagic;
  put(&magic, sizeof magic);
  for (int32_t v : {hp.n_vocab, hp.n_audio_ctx, hp.n_audio_state, hp.n_audio_head, hp.n_audio_layer, hp.n_text_ctx,
                    hp.n_text_state, hp.n_text_head, hp.n_text_layer, hp.n_mels, hp.qntvr * 1000 + hp.ftype}) {
    put_i32(v);
  }
  put_i32(hp.n_mels);
  put_i32(n_fft);
  put(mel_filters.data(), mel_filters.size() * sizeof(float));
  if (vocab.size() > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) {
    throw Error(ErrorKind::InvalidArgument, what_ + ": vocabulary of " + std::to_string(vocab.size()) + " tokens is too large");
  }
  put_i32(static_cast<int32_t>(vocab.size()));
  for (const std::string& tok : vocab) {
    if (tok.size() > std::numeric_limits<uint32_t>::max()) {
      throw Error(ErrorKind::InvalidArgument, what_ + ": a vocabulary token is too long");
    }
    const uint32_t len = static_cast<uint32_t>(tok.size());
    put(&len, sizeof len);
    put(tok.data(), tok.size());
  }
  header_done_ = true;
}

void GgmlWriter::write_tensor(const std::string& name, GgmlType type, int n_dims, const int64_t* ne,
                              const float* values) {
  if (!header_done_) throw Error(ErrorKind::Internal, what_ + ": tensor '" + name + "' written before the header");
  const std::string where = what_ + ": tensor '" + name + "'";
  if (name.empty() || name.size() > 1024) {
    throw Error(ErrorKind::InvalidArgument, what_ + ": tensor name of " + std::to_string(name.size()) + " bytes");
  }
  if (n_dims < 1 || n_dims > 4) {
    throw Error(ErrorKind::InvalidArgument, where + " has " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
  }
  int64_t elems = 1;
  for (int i = 0; i < n_dims; ++i) {
    if (ne[i] < 1 || ne[i] > std::numeric_limits<int32_t>::max()) {
      throw Error(ErrorKind::InvalidArgument, where + " dimension " + std::to_string(i) + " is " + std::to_string(ne[i]));
    }
    elems *= ne[i];
  }
  const int64_t row = ne[0];
  if (row % ggml_block_elems(type) != 0) {
    throw Error(ErrorKind::InvalidArgument, where + ": ne[0] = " + std::to_string(row) + " is not a multiple of the " +
                                                ggml_type_name(type) + " block size " +
                                                std::to_string(ggml_block_elems(type)));
  }
  put_i32(n_dims);
  put_i32(static_cast<int32_t>(name.size()));
  put_i32(static_cast<int32_t>(type));
  for (int i = 0; i < n_dims; ++i) put_i32(static_cast<int32_t>(ne[i]));
  put(name.data(), name.size());

  const int64_t rows = elems / row;
  const int64_t rows_per_chunk = std::max<int64_t>(1, kChunkElems / row);
  std::vector<uint8_t> scratch;
  for (int64_t r = 0; r < rows; r += rows_per_chunk) {
    const int64_t n = std::min(rows_per_chunk, rows - r) * row;
    scratch.resize(ggml_row_bytes(type, n));
    quantize_row(type, values + r * row, scratch.data(), n);
    put(scratch.data(), scratch.size());
  }
}

void write_ggml_whisper(std::ostream& out, const std::string& what, const HParams& hp,
                        const std::vector<float>& mel_filters, const std::vector<std::string>& vocab,
                        const std::vector<TensorData>& tensors) {
  GgmlWriter w(out, what);
  w.write_header(hp, kGgmlMelBins, mel_filters, vocab);
  for (const TensorData& t : tensors) {
    int64_t elems = 1;
    for (int64_t d : t.ne) elems *= d;
    if (t.ne.empty() || elems != static_cast<int64_t>(t.values.size())) {
      throw Error(ErrorKind::InvalidArgument, what + ": tensor '" + t.name + "' has " + std::to_string(t.values.size()) +
                                                  " values for its " + std::to_string(t.ne.size()) + "-D shape");
    }
    w.write_tensor(t.name, t.type, static_cast<int>(t.ne.size()), t.ne.data(), t.values.data());
  }
}

}  // namespace npw
