// Compression ratio against values computed with Python's zlib.compress, and Python's strip().
#include <gtest/gtest.h>

#include <string>

#include "decode/text_metrics.h"

namespace npw {
namespace {

TEST(CompressionRatio, MatchesPythonZlib) {
  // len(t) / len(zlib.compress(t)) from CPython 3 for each string.
  EXPECT_FLOAT_EQ(compression_ratio("hello world"), 11.0f / 19.0f);
  EXPECT_FLOAT_EQ(compression_ratio(""), 0.0f);
  std::string rep;
  for (int i = 0; i < 10; ++i) rep += "the cat sat on the mat. ";
  EXPECT_FLOAT_EQ(compression_ratio(rep), 7.5f);
  EXPECT_FLOAT_EQ(compression_ratio("Ich bin ein Berliner \xe2\x80\x93 sch\xc3\xb6n"), 31.0f / 38.0f);
}

TEST(PythonStrip, AsciiAndUnicodeWhitespace) {
  EXPECT_EQ(python_strip(" x  "), "x");
  EXPECT_EQ(python_strip("\xe3\x80\x80 a\xc2\xa0" "b \xe2\x80\x83"), "a\xc2\xa0" "b");
  EXPECT_EQ(python_strip(" \t\n"), "");
  EXPECT_EQ(python_strip(""), "");
  EXPECT_EQ(python_strip("\xc3\xa9"), "\xc3\xa9");
}

}  // namespace
}  // namespace npw
