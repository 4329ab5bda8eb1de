// Reading an instruction stream (the shim's DMA and lock program for one shape) as the mlir-aie
// toolchain writes it (aiecc.py --npu-insts-name: little-endian 32-bit words, a transaction header
// first), so that a truncated, empty or foreign file is refused with its name before any device sees it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace npw {
namespace npu {

// The transaction header's fields (the first four words), when the stream has one.
struct InstructionHeader {
  bool present = false;
  unsigned major = 0, minor = 0;
  unsigned device_generation = 0;  // aie-rt's XAIE_DEV_GEN_*: 3 for npu1 (AIE2 IPU), 4 and up for npu2
  unsigned rows = 0, columns = 0, mem_tile_rows = 0;
  std::uint32_t operations = 0;
  std::uint32_t bytes = 0;  // the whole transaction's size, header included
};

struct InstructionStream {
  std::vector<std::uint32_t> words;
  InstructionHeader header;
};

// Parses words already in memory (host byte order); `what` names them in errors.
InstructionStream parse_instruction_stream(std::vector<std::uint32_t> words, const std::string& what);

// Reads and parses a binary instruction file. Throws npw::Error: Io when it cannot be read, Format
// when it is empty, not whole 32-bit words, or its header's size disagrees with the file's.
InstructionStream read_instruction_stream(const std::string& path);

}  // namespace npu
}  // namespace npw
