// make_backend(): names, refusals and the "auto" choice, including accelerators plugged in through
// the provider registry. Its own executable, because registering providers changes process state.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "backend/backend.h"
#include "backend/backend_registry.h"
#include "backend/cpu/cpu_backend.h"
#include "../../common/process_threads.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

ErrorKind kind_of(const std::string& name, int threads, std::string* message) {
  try {
    make_backend(name, threads);
  } catch (const Error& e) {
    *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "make_backend('" << name << "') did not throw";
  return ErrorKind::Internal;
}

TEST(BackendFactory, CpuAndAutoGiveTheCpuBackend) {
  auto cpu = make_backend("cpu", 2);
  EXPECT_EQ(cpu->kind(), "cpu");
  EXPECT_EQ(cpu->threads(), 2);
  std::string note = "stale";
  auto autob = make_backend("auto", 1, &note);
  EXPECT_EQ(autob->kind(), "cpu");
  // With the NPU provider registered (builds with the XRT loader), "auto" tried it and says why it
  // fell back; without one there is nothing to fall back from.
  if (!note.empty()) {
    EXPECT_NE(note.find("npu"), std::string::npos) << note;
    EXPECT_NE(note.find("using cpu"), std::string::npos) << note;
  }
  // cpu-int8 is a CPU backend, never an accelerator: "auto" does not pick it.
  auto int8 = make_backend("cpu-int8", 2);
  EXPECT_EQ(int8->kind(), "cpu-int8");
  EXPECT_EQ(int8->threads(), 2);
}

// A CPU backend of n threads is the calling thread and n - 1 workers, whatever backends it holds
// inside (cpu-int8 runs its activation products on a cpu backend; each had a pool of its own).
TEST(BackendFactory, ABackendOfNThreadsAddsNMinusOneWorkers) {
  const int before = npwtest::settled_threads();
  ASSERT_GT(before, 0);
  for (const char* name : {"cpu", "cpu-int8"}) {
    // The previous backend's workers are gone (joined and reaped) before this one starts.
    ASSERT_EQ(npwtest::threads_reach(before), before) << name;
    auto b = make_backend(name, 3);
    EXPECT_EQ(npwtest::threads_reach(before + 2) - before, 2) << name;
    ASSERT_NE(b->thread_pool(), nullptr) << name;
    EXPECT_EQ(b->thread_pool()->size(), 3) << name;
    b->set_threads(2);
    EXPECT_EQ(npwtest::threads_reach(before + 1) - before, 1) << name;
    EXPECT_EQ(b->threads(), 2) << name;
  }
}

// Given the stream's pool, a backend runs on it and keeps no pool of its own; a pool of another
// size than the settings say is refused.
TEST(BackendFactory, BackendsRunOnTheStreamsPool) {
  const int base = npwtest::settled_threads();
  for (const char* name : {"cpu", "cpu-int8"}) {
    auto pool = std::make_shared<ThreadPool>(3);
    // The pool's 2 workers, the previous round's reaped (npwtest::threads_reach).
    const int before = npwtest::threads_reach(base + 2);
    ASSERT_EQ(before, base + 2) << name;
    BackendSettings s;
    s.n_threads = 3;
    s.pool = pool;
    auto b = make_backend(name, s, nullptr);
    EXPECT_EQ(b->thread_pool(), pool) << name;
    EXPECT_EQ(npwtest::process_threads(), before) << name;
    s.n_threads = 2;
    try {
      make_backend(name, s, nullptr);
      ADD_FAILURE() << name << ": a 3-thread pool for 2 threads was taken";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find("3 threads"), std::string::npos) << e.what();
    }
  }
}

TEST(BackendFactory, NpuWithoutModuleIsUnavailable) {
  std::string msg;
  EXPECT_EQ(kind_of("npu", 1, &msg), ErrorKind::Unavailable);
  // Either this build registers no NPU backend (the hardware name's own message) or the XRT module
  // it would load is missing, named with where it was looked for.
  const bool unregistered = msg.find("backend 'npu'") != std::string::npos && msg.find("XDNA") != std::string::npos;
  const bool no_module = msg.find("libnpw-npu-xrt.so") != std::string::npos && msg.find("not found") != std::string::npos;
  EXPECT_TRUE(unregistered || no_module) << msg;
}

TEST(BackendFactory, UnknownNamesListTheValidOnes) {
  for (const char* name : {"int8", "gpu", "", "CPU"}) {
    std::string msg;
    EXPECT_EQ(kind_of(name, 1, &msg), ErrorKind::InvalidArgument) << name;
    EXPECT_NE(msg.find("auto, cpu, cpu-int8, npu"), std::string::npos) << msg;
  }
  std::string msg;
  EXPECT_EQ(kind_of("cpu", 0, &msg), ErrorKind::InvalidArgument);
}

class FakeAccelerator : public CpuBackend {
 public:
  using CpuBackend::CpuBackend;
  std::string kind() const override { return "fake"; }
};

TEST(BackendFactory, AutoTriesRegisteredAcceleratorsAndExplainsFallbacks) {
  BackendProvider missing;
  missing.name = "fake";
  missing.accelerator = true;
  missing.create = [](int) -> std::unique_ptr<Backend> { throw Error(ErrorKind::Unavailable, "no fake device"); };
  register_backend(missing);

  std::string note;
  EXPECT_EQ(make_backend("auto", 1, &note)->kind(), "cpu");
  EXPECT_NE(note.find("no fake device"), std::string::npos) << note;
  EXPECT_NE(note.find("using cpu"), std::string::npos) << note;
  std::string msg;
  EXPECT_EQ(kind_of("fake", 1, &msg), ErrorKind::Unavailable);

  BackendProvider present = missing;
  present.create = [](int n) { return std::unique_ptr<Backend>(new FakeAccelerator(n)); };
  register_backend(present);  // replaces the provider of the same name
  EXPECT_EQ(make_backend("auto", 1, &note)->kind(), "fake");
  EXPECT_EQ(note, "");
  EXPECT_EQ(make_backend("fake", 2)->threads(), 2);
  EXPECT_EQ(make_backend("cpu", 1)->kind(), "cpu");

  BackendProvider nameless;
  EXPECT_THROW(register_backend(nameless), Error);
}

}  // namespace
}  // namespace npw
