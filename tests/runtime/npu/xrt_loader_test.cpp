// The runtime's XRT loader against a fake module: where it looks, what it refuses and how it says so,
// and that the Device it builds syncs exactly the ranges asked, passes arguments in order and keeps
// the books the emulator keeps.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "alloc_counter.h"
#include "backend/npu/device.h"
#include "backend/npu/xrt_module_abi.h"
#include "fake_xrt_control.h"
#include "util/error.h"

namespace npw {
namespace npu {
namespace {

// Runs f, expecting npw::Error of `kind` whose message contains every one of `parts`.
template <typename F>
void expect_error(F&& f, ErrorKind kind, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(error_kind_name(e.kind()), std::string(error_kind_name(kind))) << e.what();
    for (const char* p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' not in: " << e.what();
  }
}

class XrtLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("NPW_NPU_MODULE", NPW_FAKE_XRT_MODULE, 1);
    // The same file the loader opens: dlopen hands back the one loaded copy.
    handle_ = ::dlopen(NPW_FAKE_XRT_MODULE, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << ::dlerror();
    auto control = reinterpret_cast<fake_xrt_state* (*)()>(::dlsym(handle_, "fake_xrt_control"));
    ASSERT_NE(control, nullptr);
    fake_ = control();
    const int open = fake_->devices_open, loaded = fake_->kernels_loaded, live = fake_->buffers_live;
    std::memset(fake_, 0, sizeof *fake_);
    fake_->devices_open = open;
    fake_->kernels_loaded = loaded;
    fake_->buffers_live = live;
  }
  void TearDown() override {
    ::unsetenv("NPW_NPU_MODULE");
    if (handle_) ::dlclose(handle_);
  }

  static KernelSpec spec(const char* name) {
    KernelSpec s;
    s.op = "add";
    s.dims = {16};
    s.xclbin_path = "/nonexistent/add.xclbin";  // the fake does not read it
    s.kernel_name = name;
    s.instructions = {0x06030100u, 0x00000105u, 7u};
    return s;
  }

  void* handle_ = nullptr;
  fake_xrt_state* fake_ = nullptr;
};

TEST_F(XrtLoader, OpensTheDeviceAndDescribesIt) {
  auto dev = open_xrt_device(0);
  EXPECT_EQ(dev->info().name, "fake NPU");
  EXPECT_EQ(dev->info().generation, Generation::Npu2);
  EXPECT_EQ(dev->info().columns, 8);
  EXPECT_EQ(dev->info().rows, 4);
  EXPECT_STREQ(generation_name(dev->info().generation), "npu2");
  EXPECT_STREQ(generation_name(Generation::Npu1), "npu1");
  EXPECT_EQ(fake_->devices_open, 1);
  dev.reset();
  EXPECT_EQ(fake_->devices_open, 0);
}

TEST_F(XrtLoader, RunsWithExactSyncsAndKeepsTheBooks) {
  auto dev = open_xrt_device(0);
  auto kernel = dev->load_kernel(spec("add_i32"));
  EXPECT_EQ(fake_->last_instruction_words, 3u);
  constexpr int n = 16;
  auto a = dev->allocate(n * 4, *kernel, 0);
  auto b = dev->allocate(n * 4, *kernel, 1);
  auto out = dev->allocate(n * 4, *kernel, 2);
  EXPECT_EQ(fake_->last_alloc_arg, 2u);
  auto* pa = static_cast<int32_t*>(a->host());
  auto* pb = static_cast<int32_t*>(b->host());
  for (int i = 0; i < n; ++i) {
    pa[i] = i;
    pb[i] = 100 * i;
  }
  a->sync_to_device(0, n * 4);
  b->sync_to_device(0, n / 2 * 4);  // only the first half reaches the device
  Launch l;
  l.kernel = kernel.get();
  l.args[0] = a.get();
  l.args[1] = b.get();
  l.args[2] = out.get();
  l.n_args = 3;
  Launch two[2] = {l, l};
  dev->run(two, 2, 1000);
  EXPECT_EQ(fake_->last_batch, 2u);
  auto* po = static_cast<int32_t*>(out->host());
  EXPECT_EQ(po[3], 0) << "the result reached the host without a sync";
  out->sync_from_device(4, 8);  // elements 1 and 2 only
  EXPECT_EQ(po[0], 0);
  EXPECT_EQ(po[1], 101);
  EXPECT_EQ(po[2], 202);
  EXPECT_EQ(po[3], 0);
  out->sync_from_device(0, n * 4);
  EXPECT_EQ(po[n / 2 - 1], 101 * (n / 2 - 1));
  EXPECT_EQ(po[n / 2], n / 2) << "the unsynced half of b must read as zeros on the device";

  const DeviceBooks& books = dev->books();
  EXPECT_EQ(books.launches, 2u);
  EXPECT_EQ(books.batches, 1u);
  EXPECT_EQ(books.buffers_allocated, 3u);
  EXPECT_EQ(books.bytes_allocated, 3u * n * 4);
  EXPECT_EQ(books.bytes_to_device, static_cast<std::uint64_t>(n * 4 + n / 2 * 4));
  EXPECT_EQ(books.bytes_from_device, static_cast<std::uint64_t>(8 + n * 4));
  EXPECT_DOUBLE_EQ(books.device_seconds, 0.002);
  EXPECT_EQ(fake_->syncs, 4u);
}

TEST_F(XrtLoader, RunsAndSyncsAllocateNothingAfterTheFirstWindow) {
  if (!npw_alloc_counter_active()) GTEST_SKIP() << "no allocation counter in this (sanitizer) build";
  auto dev = open_xrt_device(0);
  auto kernel = dev->load_kernel(spec("add_i32"));
  auto a = dev->allocate(64, *kernel, 0);
  auto b = dev->allocate(64, *kernel, 1);
  auto out = dev->allocate(64, *kernel, 2);
  Launch l;
  l.kernel = kernel.get();
  l.args[0] = a.get();
  l.args[1] = b.get();
  l.args[2] = out.get();
  l.n_args = 3;
  Launch batch[3] = {l, l, l};
  auto window = [&] {
    a->sync_to_device(0, 64);
    b->sync_to_device(0, 64);
    dev->run(batch, 3, 1000);
    out->sync_from_device(0, 64);
  };
  window();  // warm-up
  const long long before = npw_alloc_count();
  for (int i = 0; i < 10; ++i) window();
  EXPECT_EQ(npw_alloc_count() - before, 0) << "heap allocations in 10 windows after warm-up";
}

TEST_F(XrtLoader, HandlesOutliveTheDeviceObjectAndAreFreedOnce) {
  auto dev = open_xrt_device(0);
  auto kernel = dev->load_kernel(spec("add_i32"));
  auto buf = dev->allocate(64, *kernel, 0);
  dev.reset();  // the backend may drop the device first
  EXPECT_EQ(fake_->devices_open, 1);
  buf->sync_to_device(0, 64);
  buf.reset();
  kernel.reset();
  EXPECT_EQ(fake_->buffers_live, 0);
  EXPECT_EQ(fake_->kernels_loaded, 0);
  EXPECT_EQ(fake_->devices_open, 0);
}

TEST_F(XrtLoader, SyncOutsideTheBufferIsRefusedBeforeTheModuleSeesIt) {
  auto dev = open_xrt_device(0);
  auto kernel = dev->load_kernel(spec("add_i32"));
  auto buf = dev->allocate(64, *kernel, 0);
  expect_error([&] { buf->sync_to_device(60, 8); }, ErrorKind::Internal, {"60..68", "64-byte"});
  expect_error([&] { buf->sync_from_device(65, 0); }, ErrorKind::Internal, {"outside"});
  EXPECT_EQ(fake_->syncs, 0u);
  EXPECT_EQ(dev->books().bytes_to_device, 0u);
}

TEST_F(XrtLoader, ModuleFailuresBecomeErrorsNamingTheThing) {
  {
    fake_->fail_open = 1;
    expect_error([] { open_xrt_device(3); }, ErrorKind::Unavailable, {"NPU 3", "fake 0.0", "no NPU device found"});
    fake_->fail_open = 0;
  }
  auto dev = open_xrt_device(0);
  fake_->fail_load = 1;
  expect_error([&] { dev->load_kernel(spec("add_i32")); }, ErrorKind::Unavailable, {"'add'", "xclbin rejected"});
  fake_->fail_load = 0;
  KernelSpec no_file = spec("add_i32");
  no_file.xclbin_path.clear();
  expect_error([&] { dev->load_kernel(no_file); }, ErrorKind::Unavailable, {"xclbin"});
  KernelSpec no_insts = spec("add_i32");
  no_insts.instructions.clear();
  expect_error([&] { dev->load_kernel(no_insts); }, ErrorKind::Unavailable, {"instruction stream is empty"});

  auto kernel = dev->load_kernel(spec("add_i32"));
  fake_->fail_alloc = 1;
  expect_error([&] { dev->allocate(4096, *kernel, 1); }, ErrorKind::Unavailable, {"4096 bytes", "argument 1", "out of device memory"});
  fake_->fail_alloc = 0;
  expect_error([&] { dev->allocate(16, *kernel, 9); }, ErrorKind::Internal, {"argument 9"});
  EXPECT_EQ(dev->books().buffers_allocated, 0u);

  auto buf = dev->allocate(16, *kernel, 0);
  fake_->fail_sync = 1;
  expect_error([&] { buf->sync_to_device(0, 16); }, ErrorKind::Internal, {"to the device", "DMA error"});
  fake_->fail_sync = 0;
  EXPECT_EQ(dev->books().bytes_to_device, 0u);
}

// A launch of the fake's "hang" kernel (spec("hang"): it never finishes) on a device of its own.
struct HungLaunch {
  std::unique_ptr<Device> dev = open_xrt_device(0);
  std::unique_ptr<Kernel> kernel;
  std::unique_ptr<DeviceBuffer> buf;
  Launch launch;
  explicit HungLaunch(KernelSpec s) {
    s.op = "gemm_i8";
    kernel = dev->load_kernel(s);
    buf = dev->allocate(16, *kernel, 0);
    launch.kernel = kernel.get();
    launch.args[0] = buf.get();
    launch.n_args = 1;
  }
};

TEST_F(XrtLoader, ATimeOutIsAnInternalErrorAndTheLaunchIsCounted) {
  HungLaunch h(spec("hang"));
  expect_error([&] { h.dev->run(&h.launch, 1, 250); }, ErrorKind::Internal, {"'gemm_i8'", "within 250 ms"});
  EXPECT_EQ(h.dev->books().launches, 1u);
}

TEST_F(XrtLoader, AStopEndsTheWaitForAHungDevice) {
  HungLaunch h(spec("hang"));
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    stop = true;
  });
  // Without the stop the hung run would end only at its 60 s time limit.
  expect_error([&] { h.dev->run(&h.launch, 1, 60000, &stop); }, ErrorKind::Cancelled, {"stopped"});
  stopper.join();
}

TEST_F(XrtLoader, ForeignKernelsAndBuffersAreRefused) {
  auto dev = open_xrt_device(0);
  auto other = open_xrt_device(1);
  auto kernel = dev->load_kernel(spec("add_i32"));
  auto foreign_kernel = other->load_kernel(spec("add_i32"));
  auto foreign_buf = other->allocate(16, *foreign_kernel, 0);
  expect_error([&] { dev->allocate(16, *foreign_kernel, 0); }, ErrorKind::Internal, {"not loaded on this device"});
  Launch l;
  l.kernel = kernel.get();
  l.args[0] = foreign_buf.get();
  l.n_args = 1;
  expect_error([&] { dev->run(&l, 1, 100); }, ErrorKind::Internal, {"argument 0", "not a buffer of this device"});
  l.n_args = kMaxLaunchArgs + 1;
  expect_error([&] { dev->run(&l, 1, 100); }, ErrorKind::Internal, {"arguments"});
  EXPECT_EQ(dev->books().launches, 0u);
}

TEST_F(XrtLoader, AnUnknownGenerationIsRefused) {
  fake_->generation = 7;
  expect_error([] { open_xrt_device(0); }, ErrorKind::Unavailable, {"fake NPU", "generation 7"});
  EXPECT_EQ(fake_->devices_open, 0) << "the refused device must be closed";
}

TEST(XrtModuleSearch, ModuleNamedByTheEnvironmentButAbsent) {
  ::setenv("NPW_NPU_MODULE", "/nonexistent/dir/libnpw-npu-xrt.so", 1);
  expect_error([] { open_xrt_device(0); }, ErrorKind::Unavailable, {"NPW_NPU_MODULE", "/nonexistent/dir/libnpw-npu-xrt.so", "does not exist"});
  ::unsetenv("NPW_NPU_MODULE");
}

TEST(XrtModuleSearch, NoModuleAnywhereSaysWhereItLooked) {
  ::unsetenv("NPW_NPU_MODULE");
  // The test program's directory and the install directory hold no module (this is not an installed tree).
  expect_error([] { open_xrt_device(0); }, ErrorKind::Unavailable, {"libnpw-npu-xrt.so was not found", "looked at", "/npuwhisper/libnpw-npu-xrt.so"});
}

TEST(XrtModuleSearch, TheLoadersOwnWordsArePassedOn) {
  const std::string path = ::testing::TempDir() + "libnpw-npu-xrt-not-elf.so";
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  for (int i = 0; i < 16; ++i) std::fputs("this is text, not a shared object\n", f);  // past an ELF header's size
  std::fclose(f);
  ::setenv("NPW_NPU_MODULE", path.c_str(), 1);
  expect_error([] { open_xrt_device(0); }, ErrorKind::Unavailable, {"could not be loaded", path.c_str(), "ELF"});
  ::unsetenv("NPW_NPU_MODULE");
  std::remove(path.c_str());
}

TEST(XrtModuleSearch, AWrongAbiVersionIsRefused) {
  ::setenv("NPW_NPU_MODULE", NPW_FAKE_XRT_MODULE_ABI99, 1);
  const std::string needs = "needs version " + std::to_string(NPW_XRT_ABI_VERSION);
  expect_error([] { open_xrt_device(0); }, ErrorKind::Unavailable, {"ABI version 99", needs.c_str()});
  ::unsetenv("NPW_NPU_MODULE");
}

TEST(XrtModuleSearch, ALibraryWithoutTheTableIsNotAModule) {
  ::setenv("NPW_NPU_MODULE", NPW_FAKE_XRT_MODULE_NOTABLE, 1);
  expect_error([] { open_xrt_device(0); }, ErrorKind::Unavailable, {"not an npuwhisper XRT module", "npw_xrt_module_api"});
  ::unsetenv("NPW_NPU_MODULE");
}

}  // namespace
}  // namespace npu
}  // namespace npw
