// Structure-aware libFuzzer target for the model loader: the input is not a file but a list of edits
// to the tiny valid model (tiny_model.h), each aimed at one section - header and hyper-parameters,
// the mel filter block, the vocabulary block, a tensor record's header, the tensor data, the file's
// length - so nearly every execution gets past the parts it does not touch and exercises the checks of
// the part it damages, down to the architecture binding. Whatever the edits: a Model or an
// npw::Error, never a crash, a sanitizer report or an unbounded allocation.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "model/ggml_file.h"
#include "model/model.h"
#include "tiny_model.h"
#include "util/error.h"

namespace {

struct Layout {
  std::vector<uint8_t> bytes;
  std::size_t mel_at = 48, vocab_at = 0, tensors_at = 0;
  std::vector<std::size_t> records;  // where each tensor record starts
  std::vector<std::size_t> data;     // where each tensor's data starts
};

const Layout& layout() {
  static const Layout l = [] {
    Layout l;
    l.bytes = npwfuzz::tiny_model_bytes();
    const npw::GgmlFile f = npw::parse_ggml_file(l.bytes.data(), l.bytes.size(), "tiny");
    l.vocab_at = 56 + f.mel_filters.size() * 4;
    for (const npw::TensorView& t : f.tensors) {
      l.records.push_back(t.offset - t.name.size() - 4 * static_cast<std::size_t>(t.n_dims) - 12);
      l.data.push_back(t.offset);
    }
    l.tensors_at = l.records.front();
    return l;
  }();
  return l;
}

uint32_t le32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }

void put32(std::vector<uint8_t>& b, std::size_t at, uint32_t v) {
  if (at + 4 <= b.size()) std::memcpy(&b[at], &v, 4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Layout& l = layout();
  std::vector<uint8_t> b = l.bytes;
  // Edits of 9 bytes: section, where (u32), value (u32).
  for (std::size_t i = 0; i + 9 <= size && i < 9 * 16; i += 9) {
    const uint8_t section = data[i] % 7;
    const uint32_t where = le32(data + i + 1);
    const uint32_t value = le32(data + i + 5);
    switch (section) {
      case 0: put32(b, 4 * (where % 14), value); break;                       // magic, header, mel counts
      case 1: put32(b, l.mel_at + 8 + 4 * (where % 201), value); break;       // a mel filter weight
      case 2: put32(b, l.vocab_at, value % 64); b.insert(b.begin() + static_cast<long>(l.vocab_at) + 4, data + i + 5, data + i + 9); break;
      case 3: {                                                               // a record header field
        const std::size_t r = l.records[where % l.records.size()];
        put32(b, r + 4 * ((where / static_cast<uint32_t>(l.records.size())) % 5), value);
        break;
      }
      case 4: {                                                               // a byte of a tensor name or data
        const std::size_t r = l.data[where % l.data.size()];
        const std::size_t at = r - 1 - (value >> 8) % 24;
        if (at < b.size()) b[at] = static_cast<uint8_t>(value);
        break;
      }
      case 5: b.resize(l.tensors_at + where % (b.size() - l.tensors_at + 64), static_cast<uint8_t>(value)); break;
      default: if (!b.empty()) b[where % b.size()] ^= static_cast<uint8_t>(value | 1); break;
    }
  }
  bool parses = false;
  try {
    npw::parse_ggml_file(b.data(), b.size(), "fuzz");
    parses = true;
  } catch (const npw::Error&) {
  }
  if (!parses) return 0;
  int fd = memfd_create("npw-fuzz-sections", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (write(fd, b.data(), b.size()) == static_cast<ssize_t>(b.size())) {
    try {
      npw::Model::load("/proc/self/fd/" + std::to_string(fd));
    } catch (const npw::Error&) {
    }
  }
  close(fd);
  return 0;
}
