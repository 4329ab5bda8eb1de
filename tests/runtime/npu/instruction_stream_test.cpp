// Instruction streams as the toolchain writes them: the little-endian words come back whole, the
// transaction header is read, and empty, ragged, truncated or missing files are refused by name.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "backend/npu/instruction_stream.h"
#include "util/error.h"

namespace npw {
namespace npu {
namespace {

std::string write_file(const std::string& name, const std::vector<unsigned char>& bytes) {
  const std::string path = ::testing::TempDir() + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  return path;
}

std::vector<unsigned char> le_bytes(const std::vector<std::uint32_t>& words) {
  std::vector<unsigned char> b;
  for (std::uint32_t w : words) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<unsigned char>(w >> (8 * i)));
  }
  return b;
}

// An npu1 transaction of 3 operations: header (4 words) then 6 words of operations, 40 bytes.
const std::vector<std::uint32_t> kNpu1Stream = {0x06030100u, 0x00000105u, 3u, 40u, 1u, 0u, 0x0601D0C0u, 0x30u, 1u, 0u};

ErrorKind kind_of(const std::string& path) {
  try {
    read_instruction_stream(path);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    return e.kind();
  }
  ADD_FAILURE() << path << " was accepted";
  return ErrorKind::Internal;
}

TEST(InstructionStream, ReadsLittleEndianWordsAndTheHeader) {
  const std::string path = write_file("npw_insts_ok.bin", le_bytes(kNpu1Stream));
  const InstructionStream s = read_instruction_stream(path);
  EXPECT_EQ(s.words, kNpu1Stream);
  ASSERT_TRUE(s.header.present);
  EXPECT_EQ(s.header.major, 0u);
  EXPECT_EQ(s.header.minor, 1u);
  EXPECT_EQ(s.header.device_generation, 3u);
  EXPECT_EQ(s.header.rows, 6u);
  EXPECT_EQ(s.header.columns, 5u);
  EXPECT_EQ(s.header.mem_tile_rows, 1u);
  EXPECT_EQ(s.header.operations, 3u);
  EXPECT_EQ(s.header.bytes, 40u);
  std::remove(path.c_str());
}

TEST(InstructionStream, AStreamWithoutAHeaderIsTakenAsWords) {
  const InstructionStream s = parse_instruction_stream({0xffffffffu, 0u, 7u}, "test words");
  EXPECT_FALSE(s.header.present);
  EXPECT_EQ(s.words.size(), 3u);
}

TEST(InstructionStream, BadFilesAreRefusedByName) {
  EXPECT_EQ(kind_of(::testing::TempDir() + "npw_no_such_insts.bin"), ErrorKind::Io);
  const std::string empty = write_file("npw_insts_empty.bin", {});
  EXPECT_EQ(kind_of(empty), ErrorKind::Format);
  std::vector<unsigned char> ragged = le_bytes(kNpu1Stream);
  ragged.pop_back();
  const std::string ragged_path = write_file("npw_insts_ragged.bin", ragged);
  EXPECT_EQ(kind_of(ragged_path), ErrorKind::Format);
  std::vector<std::uint32_t> truncated(kNpu1Stream.begin(), kNpu1Stream.end() - 2);
  const std::string truncated_path = write_file("npw_insts_truncated.bin", le_bytes(truncated));
  EXPECT_EQ(kind_of(truncated_path), ErrorKind::Format);
  try {
    read_instruction_stream(truncated_path);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("says 40 bytes but it holds 32"), std::string::npos) << e.what();
  }
  for (const auto& p : {empty, ragged_path, truncated_path}) std::remove(p.c_str());
}

}  // namespace
}  // namespace npu
}  // namespace npw
