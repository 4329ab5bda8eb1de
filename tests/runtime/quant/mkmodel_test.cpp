// npuwhisper-mkmodel end to end: the file it writes is the generator's output for the same dims, type
// and seed with the bundled vocabulary, and bad flags fail with a message and no output file.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "model/ggml_file.h"
#include "model/mapped_file.h"
#include "model/random_model.h"

namespace npw {
namespace {

const std::string kTestModel = std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin";

std::string temp_path() {
  char path[] = "/tmp/npw_mkmodel_test_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::remove(path);  // the tool must create it
  return path;
}

// Exit status of the tool run with `args`; stderr goes to `err_path`.
int run_tool(const std::string& args, const std::string& err_path) {
  const std::string cmd = std::string("'") + NPW_MKMODEL + "' " + args + " 2>'" + err_path + "' >/dev/null";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

TEST(Mkmodel, WritesTheGeneratorsModel) {
  const std::string out = temp_path();
  const std::string err = out + ".err";
  ASSERT_EQ(run_tool("--dims test --type q4_1 --seed 11 --out '" + out + "' --vocab-from '" + kTestModel + "'", err), 0)
      << slurp(err);
  MappedFile mf(kTestModel);
  const std::vector<std::string> vocab = parse_ggml_file(mf.data(), mf.size(), kTestModel).vocab;
  std::ostringstream want;
  write_random_whisper(want, "memory", whisper_dims("test"), GgmlType::Q4_1, 11, vocab);
  const std::string got = slurp(out);
  EXPECT_EQ(got.size(), want.str().size());
  EXPECT_TRUE(got == want.str());
  EXPECT_FALSE(exists(out + ".part"));
  std::remove(out.c_str());
  std::remove(err.c_str());
}

TEST(Mkmodel, BadFlagsFailClearly) {
  const std::string out = temp_path();
  const std::string err = out + ".err";
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--dims huge --type f16 --out '" + out + "'", "unknown model dimensions 'huge'"},
      {"--dims tiny --type q3_k --out '" + out + "'", "unknown weight type 'q3_k'"},
      {"--dims tiny --type f16 --seed 12x --out '" + out + "'", "--seed: '12x'"},
      {"--dims tiny --type f16 --seed 4294967296 --out '" + out + "'", "--seed"},
      {"--dims tiny --type f16", "--out is required"},
      {"--type f16 --out '" + out + "'", "--dims is required"},
      {"--dims tiny --type f16 --out '" + out + "' --frobnicate", "unknown option '--frobnicate'"},
      {"--dims tiny --type f16 --out", "--out needs a value"},
      {"--dims tiny --dims base --type f16 --out '" + out + "'", "--dims given twice"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(run_tool(c.args, err), 2) << c.args;
    EXPECT_NE(slurp(err).find(c.message), std::string::npos) << c.args << "\n" << slurp(err);
    EXPECT_FALSE(exists(out)) << c.args;
  }
  // A vocabulary source that is not a model is an error of its own kind, and leaves nothing behind.
  EXPECT_EQ(run_tool("--dims test --type f16 --out '" + out + "' --vocab-from /nonexistent.bin", err), 1);
  EXPECT_NE(slurp(err).find("/nonexistent.bin"), std::string::npos) << slurp(err);
  EXPECT_FALSE(exists(out));
  EXPECT_FALSE(exists(out + ".part"));
  std::remove(err.c_str());
}

}  // namespace
}  // namespace npw
