// The real XRT module, built against Debian unstable's XRT 2.25, loaded on the machine running the
// tests. XRT 2.25's libraries need glibc 2.38 and GCC 13's libstdc++: on Debian 12 (glibc 2.36) the
// load must fail with the loader's own words and our advice, and `auto` must fall back to the CPU
// saying so; on a system new enough to load XRT, the same call must reach XRT and report the absent
// NPU instead. Either way: an Unavailable error naming the reason, never a crash.
#include <gnu/libc-version.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "backend/backend.h"
#include "backend/npu/device.h"
#include "util/error.h"

namespace npw {
namespace npu {
namespace {

bool glibc_at_least(int major, int minor) {
  int ma = 0, mi = 0;
  std::sscanf(::gnu_get_libc_version(), "%d.%d", &ma, &mi);
  return ma > major || (ma == major && mi >= minor);
}

bool has(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

TEST(XrtModuleOnThisSystem, OpeningTheNpuSaysWhyNot) {
  ::setenv("NPW_NPU_MODULE", NPW_REAL_XRT_MODULE, 1);
  std::string message;
  try {
    auto dev = open_xrt_device(0);
    ::unsetenv("NPW_NPU_MODULE");
    GTEST_SKIP() << "an NPU is present (" << dev->info().name << "): nothing to show here";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unavailable);
    message = e.what();
  }
  ::unsetenv("NPW_NPU_MODULE");
  std::printf("glibc %s; open_xrt_device(0): %s\n", ::gnu_get_libc_version(), message.c_str());
  if (!glibc_at_least(2, 38)) {
    EXPECT_TRUE(has(message, "could not be loaded")) << message;
    EXPECT_TRUE(has(message, "libxrt")) << message;
    EXPECT_TRUE(has(message, "GLIBC_2.") || has(message, "GLIBCXX_3.4.")) << message;
    EXPECT_TRUE(has(message, "newer C/C++ library than this system's glibc")) << message;
  } else {
    EXPECT_TRUE(has(message, "no NPU device") || has(message, "could not be loaded")) << message;
  }
}

TEST(XrtModuleOnThisSystem, AutoFallsBackToTheCpuAndSaysWhy) {
  ::setenv("NPW_NPU_MODULE", NPW_REAL_XRT_MODULE, 1);
  std::string note;
  std::unique_ptr<Backend> backend = make_backend("auto", 1, &note);
  ::unsetenv("NPW_NPU_MODULE");
  ASSERT_NE(backend, nullptr);
  if (note.empty()) GTEST_SKIP() << "this build registers no NPU backend for auto to try";
  std::printf("auto: %s\n", note.c_str());
  EXPECT_TRUE(has(note, "npu")) << note;
  EXPECT_TRUE(has(note, "using cpu")) << note;
  if (!glibc_at_least(2, 38)) {
    // The reason auto gives is the loader's, whole: which library wants which newer C library.
    EXPECT_TRUE(has(note, "could not be loaded")) << note;
    EXPECT_TRUE(has(note, "GLIBC_2.") || has(note, "GLIBCXX_3.4.")) << note;
  }
}

}  // namespace
}  // namespace npu
}  // namespace npw
