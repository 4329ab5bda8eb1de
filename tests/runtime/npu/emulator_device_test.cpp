// The emulator device: its books, that only syncs carry data between host and device copies, its
// refusals of malformed launches, the injected faults, the fault-plan syntax and the cost model's
// shape; the kernel catalogs (contract shapes, the kernel directory's manifest and its errors).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/npu/cost_model.h"
#include "backend/npu/emulator_device.h"
#include "backend/npu/kernel_catalog.h"
#include "backend/npu/op_shapes.h"
#include "backend/npu/self_test.h"
#include "util/error.h"

namespace npw {
namespace npu {
namespace {

KernelSpec gemm(int M, int N, int K) {
  KernelSpec s;
  s.op = "gemm_i8";
  s.dims = {M, N, K};
  return s;
}

ErrorKind kind_of(const std::function<void()>& f, std::string* msg) {
  try {
    f();
  } catch (const Error& e) {
    *msg = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "did not throw";
  return ErrorKind::Internal;
}

struct Prepared {
  std::unique_ptr<DeviceBuffer> a, b, c;
  Launch launch;
};

Prepared prepare(EmulatorDevice& dev, const Kernel& k, int8_t av, int8_t bv) {
  Prepared r;
  const ArgBytes bytes = op_arg_bytes(k.spec());
  r.a = dev.allocate(bytes[0], k, 0);
  r.b = dev.allocate(bytes[1], k, 1);
  r.c = dev.allocate(bytes[2], k, 2);
  std::memset(r.a->host(), av, bytes[0]);
  std::memset(r.b->host(), bv, bytes[1]);
  r.launch.kernel = &k;
  r.launch.n_args = 3;
  r.launch.args[0] = r.a.get();
  r.launch.args[1] = r.b.get();
  r.launch.args[2] = r.c.get();
  return r;
}

TEST(EmulatorDevice, BooksAndSyncSemantics) {
  EmulatorDevice dev(Generation::Npu1, 2);
  EXPECT_EQ(dev.info().columns, 4);
  auto k = dev.load_kernel(gemm(256, 128, 64));
  Prepared r = prepare(dev, *k, 2, 3);
  EXPECT_EQ(dev.books().buffers_allocated, 3u);
  EXPECT_EQ(dev.books().bytes_allocated, 256u * 64 + 128u * 64 + 256u * 128 * 4);
  // Without a sync the device sees zeros: C is all zeros.
  dev.run(&r.launch, 1, 1000);
  r.c->sync_from_device(0, 256 * 128 * 4);
  EXPECT_EQ(static_cast<int32_t*>(r.c->host())[0], 0);
  r.a->sync_to_device(0, 256 * 64);
  r.b->sync_to_device(0, 128 * 64);
  dev.run(&r.launch, 1, 1000);
  // Only the synced range comes back.
  std::memset(r.c->host(), 0, 256 * 128 * 4);
  r.c->sync_from_device(0, 128 * 4);
  EXPECT_EQ(static_cast<int32_t*>(r.c->host())[127], 64 * 6);
  EXPECT_EQ(static_cast<int32_t*>(r.c->host())[128], 0);
  const DeviceBooks& b = dev.books();
  EXPECT_EQ(b.launches, 2u);
  EXPECT_EQ(b.batches, 2u);
  EXPECT_EQ(b.bytes_to_device, 256u * 64 + 128u * 64);
  EXPECT_EQ(b.bytes_from_device, 256u * 128 * 4 + 128u * 4);
  EXPECT_GT(b.device_seconds, 2 * 60e-6);  // at least two launch overheads
  std::string msg;
  EXPECT_EQ(kind_of([&] { r.a->sync_to_device(256 * 64 - 1, 2); }, &msg), ErrorKind::InvalidArgument);
  EXPECT_NE(msg.find("outside"), std::string::npos) << msg;
}

TEST(EmulatorDevice, RefusesShapesAndLaunchesOutsideTheContract) {
  EmulatorDevice dev(Generation::Npu2, 1);
  std::string msg;
  EXPECT_EQ(kind_of([&] { dev.load_kernel(gemm(1500, 384, 384)); }, &msg), ErrorKind::InvalidArgument);
  EXPECT_NE(msg.find("Mp = 1500 must be a positive multiple of 256"), std::string::npos) << msg;
  EXPECT_EQ(kind_of([&] { dev.load_kernel(gemm(256, 128, 8192)); }, &msg), ErrorKind::InvalidArgument);
  KernelSpec unknown = gemm(256, 128, 64);
  unknown.op = "conv";
  EXPECT_EQ(kind_of([&] { dev.load_kernel(unknown); }, &msg), ErrorKind::InvalidArgument);
  EXPECT_NE(msg.find("unknown op"), std::string::npos) << msg;
  auto small = dev.load_kernel(gemm(256, 128, 64));
  auto big = dev.load_kernel(gemm(512, 128, 64));
  Prepared r = prepare(dev, *small, 1, 1);
  r.launch.kernel = big.get();  // A and C too small for this shape
  EXPECT_EQ(kind_of([&] { dev.run(&r.launch, 1, 100); }, &msg), ErrorKind::InvalidArgument);
  EXPECT_NE(msg.find("needs"), std::string::npos) << msg;
  r.launch.kernel = small.get();
  r.launch.n_args = 2;
  EXPECT_EQ(kind_of([&] { dev.run(&r.launch, 1, 100); }, &msg), ErrorKind::InvalidArgument);
  EXPECT_EQ(dev.books().launches, 0u);  // nothing ran
}

TEST(EmulatorDevice, InjectedFaults) {
  EmulatorDevice dev(Generation::Npu1, 1);
  auto k = dev.load_kernel(gemm(256, 128, 64));
  EXPECT_TRUE(self_test_kernel(dev, *k, 1000).ok);

  dev.set_fault(parse_fault_plan("zeros"));
  const SelfTestResult z = self_test_kernel(dev, *k, 1000);
  EXPECT_FALSE(z.ok);
  EXPECT_NE(z.detail.find("all zeros"), std::string::npos) << z.detail;
  EXPECT_NE(z.detail.find("32768 of 32768"), std::string::npos) << z.detail;

  const uint64_t done = dev.books().launches;
  dev.set_fault(parse_fault_plan("timeout@" + std::to_string(done + 1)));
  Prepared r = prepare(dev, *k, 1, 1);
  dev.run(&r.launch, 1, 250);  // launch `done` still completes
  std::string msg;
  EXPECT_EQ(kind_of([&] { dev.run(&r.launch, 1, 250); }, &msg), ErrorKind::Internal);
  EXPECT_NE(msg.find("did not finish within 250 ms"), std::string::npos) << msg;
  dev.set_fault(parse_fault_plan("error"));
  EXPECT_EQ(kind_of([&] { dev.run(&r.launch, 1, 250); }, &msg), ErrorKind::Internal);
  EXPECT_NE(msg.find("failed"), std::string::npos) << msg;
  // A hung device: a stall ends at the time limit, or at once when the caller's stop flag is raised.
  dev.set_fault(parse_fault_plan("stall"));
  EXPECT_EQ(kind_of([&] { dev.run(&r.launch, 1, 50); }, &msg), ErrorKind::Internal);
  EXPECT_NE(msg.find("injected stall"), std::string::npos) << msg;
  std::atomic<bool> stop{true};
  EXPECT_EQ(kind_of([&] { dev.run(&r.launch, 1, 60000, &stop); }, &msg), ErrorKind::Cancelled);
  dev.set_fault(parse_fault_plan(""));
  EXPECT_TRUE(self_test_kernel(dev, *k, 1000).ok);
  // Stopped before a healthy run computes its rows: Cancelled too, and the device still works.
  EXPECT_EQ(kind_of([&] { dev.run(&r.launch, 1, 1000, &stop); }, &msg), ErrorKind::Cancelled);
  EXPECT_TRUE(self_test_kernel(dev, *k, 1000).ok);

  for (const char* bad : {"zero", "timeout@", "error@x", "@3"}) {
    EXPECT_EQ(kind_of([&] { parse_fault_plan(bad); }, &msg), ErrorKind::InvalidArgument) << bad;
    EXPECT_NE(msg.find("NPW_NPU_EMULATOR_FAULT"), std::string::npos) << msg;
  }
}

TEST(EmulatorDevice, BF16SelfTestPassesAndCatchesZeros) {
  EmulatorDevice dev(Generation::Npu1, 1);
  KernelSpec s = gemm(256, 128, 128);
  s.op = "gemm_bf16";
  auto k = dev.load_kernel(s);
  EXPECT_TRUE(self_test_kernel(dev, *k, 1000).ok);
  dev.set_fault(parse_fault_plan("zeros"));
  EXPECT_FALSE(self_test_kernel(dev, *k, 1000).ok);
}

TEST(CostModel, GenerationsAndShape) {
  const CostModel n1 = CostModel::for_generation(Generation::Npu1);
  const CostModel n2 = CostModel::for_generation(Generation::Npu2);
  EXPECT_EQ(n1.cores, 16);
  EXPECT_EQ(n2.cores, 32);
  // A large product is faster on npu2; bf16 is slower than int8; launch overhead is stated.
  const double t1 = n1.gemm_seconds(1536, 1536, 384, 1, 4), t2 = n2.gemm_seconds(1536, 1536, 384, 1, 4);
  EXPECT_GT(t1, t2);
  EXPECT_GT(n1.gemm_seconds(1536, 1536, 384, 2, 4), t1);
  EXPECT_GT(n1.gemm_seconds(3072, 1536, 384, 1, 4), t1);
  EXPECT_GE(n1.launch_seconds(true), 40e-6);
  EXPECT_NE(n1.describe().find("npu1"), std::string::npos);
}

std::string temp_dir() {
  char tmpl[] = "/tmp/npw_kernels_XXXXXX";
  const char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d ? d : "";
}

TEST(KernelCatalog, ContractShapes) {
  auto c = contract_catalog(Generation::Npu1);
  EXPECT_EQ(c->rows_for("gemm_i8", 1500, 384, 384), 1536);
  EXPECT_EQ(c->rows_for("gemm_i8", 1, 384, 384), 256);
  EXPECT_EQ(c->rows_for("gemm_i8", 3000, 384, 256), 3072);
  std::string msg;
  EXPECT_EQ(kind_of([&] { c->rows_for("gemm_i8", 3073, 384, 384); }, &msg), ErrorKind::Unavailable);
}

TEST(KernelCatalog, ManifestEntriesAndErrors) {
  std::string msg;
  EXPECT_EQ(kind_of([&] { manifest_catalog("/nonexistent/npw-kernels", Generation::Npu1); }, &msg), ErrorKind::Unavailable);
  EXPECT_NE(msg.find("/nonexistent/npw-kernels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;

  const std::string dir = temp_dir();
  EXPECT_EQ(kind_of([&] { manifest_catalog(dir, Generation::Npu1); }, &msg), ErrorKind::Unavailable);
  EXPECT_NE(msg.find("manifest.txt"), std::string::npos) << msg;
  {
    std::ofstream m(dir + "/manifest.txt");
    m << "# written by the test\nnpuwhisper-kernels 1\n"
         "op gemm_i8 npu1 xclbin=gemm_i8_npu1.xclbin kernel=MLIR_AIE pad=256,128,64\n"
         "op gemm_i8 npu2 xclbin=gemm_i8_npu2.xclbin kernel=MLIR_AIE pad=256,128,64\n"
         "shape gemm_i8 npu1 256,384,384 insts=a.bin\n"
         "shape gemm_i8 npu1 1536,384,384 insts=b.bin\n";
    std::ofstream a(dir + "/a.bin", std::ios::binary);
    const unsigned char words[8] = {1, 0, 0, 0, 0x78, 0x56, 0x34, 0x12};
    a.write(reinterpret_cast<const char*>(words), 8);
  }
  auto c = manifest_catalog(dir, Generation::Npu1);
  EXPECT_EQ(c->rows_for("gemm_i8", 1500, 384, 384), 1536);
  EXPECT_EQ(c->rows_for("gemm_i8", 200, 384, 384), 256);
  EXPECT_EQ(c->max_rows("gemm_i8", 384, 384), 1536);
  EXPECT_EQ(c->smallest_shape("gemm_i8"), (std::vector<int>{256, 384, 384}));
  EXPECT_EQ(kind_of([&] { c->smallest_shape("gemm_bf16"); }, &msg), ErrorKind::Unavailable);
  const KernelSpec s = c->spec("gemm_i8", 256, 384, 384);
  EXPECT_EQ(s.kernel_name, "MLIR_AIE");
  EXPECT_EQ(s.xclbin_path, dir + "/gemm_i8_npu1.xclbin");
  ASSERT_EQ(s.instructions.size(), 2u);
  EXPECT_EQ(s.instructions[1], 0x12345678u);
  EXPECT_EQ(kind_of([&] { c->spec("gemm_i8", 1536, 384, 384); }, &msg), ErrorKind::Io);  // b.bin missing
  EXPECT_NE(msg.find("b.bin"), std::string::npos) << msg;
  EXPECT_EQ(kind_of([&] { c->rows_for("gemm_i8", 1500, 512, 512); }, &msg), ErrorKind::Unavailable);
  EXPECT_NE(msg.find("512x512"), std::string::npos) << msg;
  EXPECT_EQ(kind_of([&] { c->rows_for("gemm_bf16", 1500, 384, 384); }, &msg), ErrorKind::Unavailable);

  {
    std::ofstream m(dir + "/manifest.txt");
    m << "npuwhisper-kernels 1\nshape gemm_i8 npu1 1500,384,384 insts=a.bin\n";
  }
  EXPECT_EQ(kind_of([&] { manifest_catalog(dir, Generation::Npu1); }, &msg), ErrorKind::Format);
  EXPECT_NE(msg.find("manifest.txt:2"), std::string::npos) << msg;
  {
    std::ofstream m(dir + "/manifest.txt");
    m << "npuwhisper-kernels 2\n";
  }
  EXPECT_EQ(kind_of([&] { manifest_catalog(dir, Generation::Npu1); }, &msg), ErrorKind::Format);
  std::remove((dir + "/manifest.txt").c_str());
  std::remove((dir + "/a.bin").c_str());
  std::remove(dir.c_str());
}

}  // namespace
}  // namespace npu
}  // namespace npw
