// Parsing and validation of whisper.cpp's GGML Whisper file format over a byte range (normally an
// mmapped file). Everything is bounds-checked: whatever the bytes, parse() either returns a complete,
// consistent description or throws npw::Error(Format/Unsupported) naming the file, the field or tensor,
// and what was wrong. Tensor data is not copied: views point into the given bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/ggml_types.h"
#include "model/hparams.h"

namespace npw {

inline constexpr uint32_t kGgmlMagic = 0x67676d6c;  // "ggml" read as a little-endian uint32

// A tensor record. ne[] is in ggml order (ne[0] is the fastest-varying dimension, i.e. the reverse of
// the PyTorch shape); unused dimensions are 1.
struct TensorView {
  std::string name;
  GgmlType type = GgmlType::F32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};
  const uint8_t* data = nullptr;  // not necessarily aligned
  std::size_t nbytes = 0;
  std::size_t offset = 0;  // of the data within the file

  int64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  // Rows of ne[0] elements.
  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }
};

struct GgmlFile {
  HParams hparams;
  int32_t mel_n_mel = 0;
  int32_t mel_n_fft = 0;
  std::vector<float> mel_filters;        // [mel_n_mel][mel_n_fft], copied (the file's floats may be unaligned)
  std::vector<std::string> vocab;        // the stored tokens (byte strings), count as in the file
  std::vector<TensorView> tensors;       // in file order
  std::unordered_map<std::string, std::size_t> index;  // name -> position in `tensors`
  // Bytes after the last record, too few to start another (appended, or a record cut short).
  std::size_t trailing_bytes = 0;
  // What loads but looks wrong (a header ftype that does not describe the tensors, a head count no
  // Whisper model of this width has), one sentence each, for the user to see.
  std::vector<std::string> warnings;

  const TensorView* find(const std::string& name) const;
};

// Parses `size` bytes. `what` names the source in error messages (normally the path).
// Validates the header, the mel block, the vocabulary block and every tensor record (known type,
// sane dims, block-multiple rows, data inside the file, no duplicate names). It does not know which
// tensors a Whisper model needs: see model.h for that check (and for trailing_bytes).
GgmlFile parse_ggml_file(const uint8_t* bytes, std::size_t size, const std::string& what);

}  // namespace npw
