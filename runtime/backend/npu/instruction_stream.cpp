// Instruction streams in the toolchain's binary format. The transaction header (aie-rt's
// XAie_TxnHeader: major, minor, device generation, rows, columns, memory-tile rows as bytes, then the
// operation count and the total size in bytes) is checked where present: a size that disagrees with
// the file is a truncated or concatenated stream, which on the device would hang or run garbage.
#include "backend/npu/instruction_stream.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/error.h"

namespace npw {
namespace npu {

namespace {

// A header is recognised by its shape: a known major/minor, a plausible array, and a size field that
// is a whole number of words no smaller than the header.
bool looks_like_header(const std::vector<std::uint32_t>& w, InstructionHeader* h) {
  if (w.size() < 4) return false;
  h->major = w[0] & 0xffu;
  h->minor = (w[0] >> 8) & 0xffu;
  h->device_generation = (w[0] >> 16) & 0xffu;
  h->rows = (w[0] >> 24) & 0xffu;
  h->columns = w[1] & 0xffu;
  h->mem_tile_rows = (w[1] >> 8) & 0xffu;
  h->operations = w[2];
  h->bytes = w[3];
  const bool plausible = h->major <= 1 && h->device_generation >= 1 && h->device_generation <= 16 && h->rows >= 1 &&
                         h->rows <= 8 && h->columns >= 1 && h->columns <= 64 && h->bytes >= 16 && h->bytes % 4 == 0;
  h->present = plausible;
  return plausible;
}

}  // namespace

InstructionStream parse_instruction_stream(std::vector<std::uint32_t> words, const std::string& what) {
  if (words.empty()) throw Error(ErrorKind::Format, "instruction stream " + what + " is empty");
  InstructionStream s;
  s.words = std::move(words);
  if (looks_like_header(s.words, &s.header)) {
    const std::uint64_t have = static_cast<std::uint64_t>(s.words.size()) * 4u;
    if (s.header.bytes != have) {
      throw Error(ErrorKind::Format, "instruction stream " + what + ": its header says " +
                                         std::to_string(s.header.bytes) + " bytes but it holds " +
                                         std::to_string(have) + " (truncated or not one stream)");
    }
  }
  return s;
}

InstructionStream read_instruction_stream(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(ErrorKind::Io, "instruction stream " + path + " cannot be opened: " + std::strerror(errno));
  std::vector<unsigned char> bytes;
  unsigned char chunk[65536];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw Error(ErrorKind::Io, "instruction stream " + path + " could not be read");
  if (bytes.size() % 4 != 0) {
    throw Error(ErrorKind::Format, "instruction stream " + path + " is " + std::to_string(bytes.size()) +
                                       " bytes, not a whole number of 32-bit words");
  }
  std::vector<std::uint32_t> words(bytes.size() / 4);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const unsigned char* b = &bytes[i * 4];
    words[i] = static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
               static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
  }
  return parse_instruction_stream(std::move(words), path);
}

}  // namespace npu
}  // namespace npw
