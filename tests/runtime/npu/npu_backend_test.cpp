// The NPU backend over the emulator: its products equal the contract's host arithmetic bit for bit
// and the f32 product within the quantisation error; placement; overlapping im2col rows; the books
// of one product (one launch, exactly the bytes used, no buffer after the first); the start-up
// self-test refusing a kernel that writes zeros; a run that times out mid-stream; registration.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "backend/backend_registry.h"
#include "backend/npu/emulator_device.h"
#include "backend/npu/host_quantize.h"
#include "backend/npu/kernel_catalog.h"
#include "backend/npu/npu_backend.h"
#include "backend/npu/npu_context.h"
#include "backend/npu/npu_open.h"
#include "backend/npu/op_shapes.h"
#include "backend/npu/placement.h"
#include "util/error.h"

namespace npw {
namespace npu {
namespace {

int g_contexts = 0;

// A context of its own (own device, own name) so faults stay in one test.
std::shared_ptr<NpuContext> own_context(Generation g, FaultPlan fault = {}, EmulatorDevice** device = nullptr) {
  auto dev = std::make_unique<EmulatorDevice>(g, 2);
  dev->set_fault(fault);
  if (device) *device = dev.get();
  return std::make_shared<NpuContext>("npu-emulator-test" + std::to_string(++g_contexts), std::move(dev),
                                      contract_catalog(g));
}

struct Matrix {
  std::vector<float> w;  // [n_out][n_in]
  TensorView view;
};

Matrix random_matrix(int n_out, int n_in, uint32_t seed) {
  Matrix m;
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.1f);
  m.w.resize(static_cast<std::size_t>(n_out) * n_in);
  for (float& x : m.w) x = nd(rng);
  m.view.name = "test.weight";
  m.view.type = GgmlType::F32;
  m.view.n_dims = 2;
  m.view.ne[0] = n_in;
  m.view.ne[1] = n_out;
  m.view.data = reinterpret_cast<const uint8_t*>(m.w.data());
  m.view.nbytes = m.w.size() * sizeof(float);
  return m;
}

std::vector<float> random_rows(int M, int ld, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(M) * ld);
  for (float& v : x) v = nd(rng);
  return x;
}

// The contract's host arithmetic, written out: what the device path must produce bit for bit.
std::vector<float> contract_product(const float* X, int M, int ldx, const Matrix& W, int n_out, int n_in,
                                    const float* bias) {
  const int Kp = round_up(n_in, 64);
  std::vector<int8_t> qw(static_cast<std::size_t>(n_out) * Kp), qx(static_cast<std::size_t>(Kp));
  std::vector<float> sw(static_cast<std::size_t>(n_out));
  for (int o = 0; o < n_out; ++o) sw[o] = quantize_row_i8(W.w.data() + static_cast<std::size_t>(o) * n_in, n_in, Kp, qw.data() + static_cast<std::size_t>(o) * Kp);
  std::vector<float> y(static_cast<std::size_t>(M) * n_out);
  for (int m = 0; m < M; ++m) {
    const float sx = quantize_row_i8(X + static_cast<std::size_t>(m) * ldx, n_in, Kp, qx.data());
    for (int o = 0; o < n_out; ++o) {
      int32_t c = 0;
      for (int k = 0; k < Kp; ++k) c += int32_t(qx[k]) * qw[static_cast<std::size_t>(o) * Kp + k];
      const float r = static_cast<float>(c) * (sx * sw[o]);
      y[static_cast<std::size_t>(m) * n_out + o] = bias ? r + bias[o] : r;
    }
  }
  return y;
}

double rel_l2_to_f32(const std::vector<float>& y, const float* X, int M, int ldx, const Matrix& W, int n_out, int n_in,
                     const float* bias) {
  double d2 = 0, r2 = 0;
  for (int m = 0; m < M; ++m)
    for (int o = 0; o < n_out; ++o) {
      double s = bias ? bias[o] : 0.0;
      for (int k = 0; k < n_in; ++k) s += double(X[static_cast<std::size_t>(m) * ldx + k]) * W.w[static_cast<std::size_t>(o) * n_in + k];
      const double d = y[static_cast<std::size_t>(m) * n_out + o] - s;
      d2 += d * d;
      r2 += s * s;
    }
  return std::sqrt(d2 / r2);
}

TEST(NpuBackend, DeviceProductIsTheContractsArithmeticBitForBit) {
  NpuBackend b(own_context(Generation::Npu1), 2);
  EXPECT_EQ(b.kind().rfind("npu-emulator-test", 0), 0u);
  const int n_out = 70, n_in = 100, M = 37;
  const Matrix W = random_matrix(n_out, n_in, 1);
  auto packed = b.pack_for_many_rows(W.view);
  EXPECT_EQ(packed->n_out(), n_out);
  EXPECT_EQ(packed->bytes(), 128u * 128u);  // Np x Kp int8
  std::vector<float> bias(n_out);
  for (int o = 0; o < n_out; ++o) bias[o] = 0.01f * o;
  const std::vector<float> X = random_rows(M, 110, 2);
  std::vector<float> Y(static_cast<std::size_t>(M) * 80, -7.0f);
  b.linear(X.data(), M, 110, *packed, bias.data(), Y.data(), 80);
  const std::vector<float> want = contract_product(X.data(), M, 110, W, n_out, n_in, bias.data());
  std::vector<float> got(want.size());
  for (int m = 0; m < M; ++m) {
    std::memcpy(&got[static_cast<std::size_t>(m) * n_out], &Y[static_cast<std::size_t>(m) * 80], n_out * sizeof(float));
    for (int o = n_out; o < 80; ++o) EXPECT_EQ(Y[static_cast<std::size_t>(m) * 80 + o], -7.0f) << "past n_out touched";
  }
  EXPECT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * sizeof(float)));
  const double err = rel_l2_to_f32(got, X.data(), M, 110, W, n_out, n_in, bias.data());
  std::printf("[npu gemm_i8] rel-L2 to the f32 product %.3e (70 x 100, 37 rows)\n", err);
  EXPECT_LT(err, 0.02);
  EXPECT_GT(err, 0.0);
}

TEST(NpuBackend, OverlappingRowsAndBooksOfOneProduct) {
  NpuBackend b(own_context(Generation::Npu2), 2);
  const int n_in = 3 * 40, n_out = 64, M = 300;  // a convolution: row t = frames t..t+2 of 40 channels
  const Matrix W = random_matrix(n_out, n_in, 3);
  auto packed = b.pack_for_many_rows(W.view);
  const std::vector<float> frames = random_rows(M + 2, 40, 4);
  std::vector<float> im2col(static_cast<std::size_t>(M) * n_in);
  for (int t = 0; t < M; ++t) std::memcpy(&im2col[static_cast<std::size_t>(t) * n_in], &frames[static_cast<std::size_t>(t) * 40], n_in * sizeof(float));
  std::vector<float> y1(static_cast<std::size_t>(M) * n_out), y2(y1.size());
  AcceleratorBooks before;
  ASSERT_TRUE(b.accelerator_books(&before));
  b.linear(frames.data(), M, 40, *packed, nullptr, y1.data(), n_out);  // overlapping rows
  AcceleratorBooks after;
  b.accelerator_books(&after);
  EXPECT_EQ(after.launches - before.launches, 1u);
  EXPECT_EQ(after.bytes_to_device - before.bytes_to_device, 300u * 128);      // M x Kp, not Mp x Kp
  EXPECT_EQ(after.bytes_from_device - before.bytes_from_device, 300u * 128 * 4);  // M x Np x 4
  EXPECT_EQ(after.buffers_allocated - before.buffers_allocated, 2u);          // A and C, first use
  EXPECT_GT(after.device_seconds, before.device_seconds);
  b.linear(im2col.data(), M, n_in, *packed, nullptr, y2.data(), n_out);
  EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));
  AcceleratorBooks again;
  b.accelerator_books(&again);
  EXPECT_EQ(again.buffers_allocated, after.buffers_allocated) << "the pooled buffers are reused";
  EXPECT_EQ(again.products_on_device, 2u);
  EXPECT_EQ(again.device, "npu-emulator (npu2)");
}

TEST(NpuBackend, FewRowsRunOnTheCpuWithTheCpuForm) {
  NpuBackend b(own_context(Generation::Npu1), 1);
  const Matrix W = random_matrix(96, 64, 5);
  auto packed = b.pack(W.view);  // decoder matrix: both forms
  const std::vector<float> X = random_rows(kCpuMaxRows + 1, 64, 6);
  std::vector<float> Y(static_cast<std::size_t>(kCpuMaxRows + 1) * 96);
  AcceleratorBooks a, c;
  b.accelerator_books(&a);
  b.linear(X.data(), 3, 64, *packed, nullptr, Y.data(), 96);
  b.accelerator_books(&c);
  EXPECT_EQ(c.launches, a.launches);
  EXPECT_EQ(c.products_on_cpu, a.products_on_cpu + 1);
  std::vector<float> y3(Y.begin(), Y.begin() + 3 * 96);
  EXPECT_LT(rel_l2_to_f32(y3, X.data(), 3, 64, W, 96, 64, nullptr), 0.02);
  b.linear(X.data(), kCpuMaxRows + 1, 64, *packed, nullptr, Y.data(), 96);
  b.accelerator_books(&c);
  EXPECT_EQ(c.launches, a.launches + 1);
  // Overlapping rows are a device-path feature: the CPU path refuses them by name.
  try {
    b.linear(X.data(), 2, 10, *packed, nullptr, Y.data(), 96);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
  }
}

TEST(NpuBackend, SelfTestRefusesAKernelThatWritesZeros) {
  try {
    NpuBackend b(own_context(Generation::Npu1, parse_fault_plan("zeros")), 1);
    ADD_FAILURE() << "a zeros kernel passed the self-test";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::Unavailable);
    EXPECT_NE(msg.find("self-test"), std::string::npos) << msg;
    EXPECT_NE(msg.find("gemm_i8 256x256x128"), std::string::npos) << msg;
    EXPECT_NE(msg.find("all zeros"), std::string::npos) << msg;
    EXPECT_NE(msg.find("65536 of 65536"), std::string::npos) << msg;
  }
}

TEST(NpuBackend, ATimeoutMidStreamIsAnErrorAndDisablesTheDevice) {
  EmulatorDevice* dev = nullptr;
  auto ctx = own_context(Generation::Npu1, {}, &dev);
  NpuBackend b(ctx, 1);
  const Matrix W = random_matrix(64, 64, 7);
  auto packed = b.pack_for_many_rows(W.view);
  const std::vector<float> X = random_rows(100, 64, 8);
  std::vector<float> Y(100 * 64, 0.0f);
  b.linear(X.data(), 100, 64, *packed, nullptr, Y.data(), 64);
  FaultPlan timeout;
  timeout.fault = Fault::Timeout;
  dev->set_fault(timeout);
  std::vector<float> Y2(100 * 64, 1.5f);
  try {
    b.linear(X.data(), 100, 64, *packed, nullptr, Y2.data(), 64);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(std::string(e.what()).find("did not finish within"), std::string::npos) << e.what();
  }
  for (float v : Y2) ASSERT_EQ(v, 1.5f) << "output written after a failed run";
  dev->set_fault({});
  EXPECT_THROW(b.linear(X.data(), 100, 64, *packed, nullptr, Y2.data(), 64), Error);  // stays refused
  try {
    NpuBackend again(ctx, 1);
    ADD_FAILURE() << "a failed device accepted a new stream";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unavailable);
    EXPECT_NE(std::string(e.what()).find("disabled"), std::string::npos) << e.what();
  }
}

TEST(NpuBackend, ForeignMatricesAndBadStridesAreRefused) {
  NpuBackend a(own_context(Generation::Npu1), 1), b(own_context(Generation::Npu1), 1);
  const Matrix W = random_matrix(32, 32, 9);
  auto pa = a.pack_for_many_rows(W.view);
  std::vector<float> X(64 * 32), Y(64 * 32);
  EXPECT_THROW(b.linear(X.data(), 64, 32, *pa, nullptr, Y.data(), 32), Error);
  EXPECT_THROW(a.linear(X.data(), 64, 32, *pa, nullptr, Y.data(), 31), Error);
  EXPECT_THROW(a.linear(X.data(), -1, 32, *pa, nullptr, Y.data(), 32), Error);
}

TEST(NpuBackend, RegisteredAsNpuEmulatorNotTriedByAuto) {
  auto b = make_backend("npu-emulator", 1);
  EXPECT_EQ(b->kind(), "npu-emulator");
  AcceleratorBooks books;
  EXPECT_TRUE(b->accelerator_books(&books));
  EXPECT_EQ(books.device, "npu-emulator (npu1)");
  std::string note;
  EXPECT_EQ(make_backend("auto", 1, &note)->kind().rfind("npu-emulator", 0), std::string::npos);
  BackendSettings s;
  s.n_threads = 1;
  bool warn = true;
  make_backend("auto", s, &note, &warn);
  EXPECT_FALSE(warn);
}

TEST(NpuBackend, Bf16PrecisionWithinItsBound) {
  NpuBackend b(own_context(Generation::Npu1), 2, Precision::Bf16);
  EXPECT_NE(b.kind().find("-bf16"), std::string::npos);
  const Matrix W = random_matrix(130, 200, 10);
  auto packed = b.pack_for_many_rows(W.view);
  const std::vector<float> X = random_rows(50, 200, 11);
  std::vector<float> Y(50 * 130);
  b.linear(X.data(), 50, 200, *packed, nullptr, Y.data(), 130);
  const double err = rel_l2_to_f32(Y, X.data(), 50, 200, W, 130, 200, nullptr);
  std::printf("[npu gemm_bf16] rel-L2 to the f32 product %.3e\n", err);
  EXPECT_LT(err, 0.01);  // two bf16 roundings, 2^-9 relative each, in a random walk
}

TEST(NpuBackend, ProductsOfTheSameRowsRunAsOneBatch) {
  NpuBackend b(own_context(Generation::Npu1), 2);
  const int n_in = 96, M = 200;
  const int n_outs[3] = {64, 200, 96};
  std::vector<Matrix> W;
  std::vector<std::unique_ptr<PackedMatrix>> packed;
  for (int i = 0; i < 3; ++i) {
    W.push_back(random_matrix(n_outs[i], n_in, 20 + i));
    packed.push_back(b.pack_for_many_rows(W.back().view));
  }
  std::vector<float> bias(200, 0.25f);
  const std::vector<float> X = random_rows(M, n_in, 30);
  std::vector<std::vector<float>> one(3), many(3);
  for (int i = 0; i < 3; ++i) {
    one[i].assign(static_cast<std::size_t>(M) * n_outs[i], 0.0f);
    many[i].assign(one[i].size(), -1.0f);
    b.linear(X.data(), M, n_in, *packed[i], i == 1 ? nullptr : bias.data(), one[i].data(), n_outs[i]);
  }
  AcceleratorBooks before, after;
  b.accelerator_books(&before);
  LinearJob jobs[3];
  for (int i = 0; i < 3; ++i) jobs[i] = LinearJob{packed[i].get(), i == 1 ? nullptr : bias.data(), many[i].data(), n_outs[i]};
  b.linear_many(X.data(), M, n_in, jobs, 3);
  b.accelerator_books(&after);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(0, std::memcmp(one[i].data(), many[i].data(), one[i].size() * sizeof(float))) << "product " << i;
  EXPECT_EQ(after.launches - before.launches, 3u);
  EXPECT_EQ(after.batches - before.batches, 1u) << "one runlist";
  EXPECT_EQ(after.products_on_device - before.products_on_device, 3u);
  EXPECT_EQ(after.bytes_to_device - before.bytes_to_device, static_cast<uint64_t>(M) * 128) << "the rows synced once";
  EXPECT_EQ(after.bytes_from_device - before.bytes_from_device, static_cast<uint64_t>(M) * (128 + 256 + 128) * 4);
  EXPECT_EQ(after.buffers_allocated - before.buffers_allocated, 2u) << "two more result buffers, then none";
  b.linear_many(X.data(), M, n_in, jobs, 3);
  AcceleratorBooks again;
  b.accelerator_books(&again);
  EXPECT_EQ(again.buffers_allocated, after.buffers_allocated);

  // Few rows go to the CPU product by product, with the same results as linear().
  std::vector<float> y1(static_cast<std::size_t>(4) * 64), y2(y1.size());
  b.linear(X.data(), 4, n_in, *packed[0], nullptr, y1.data(), 64);
  const LinearJob few{packed[0].get(), nullptr, y2.data(), 64};
  b.linear_many(X.data(), 4, n_in, &few, 1);
  EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));

  // Different input widths cannot share the prepared rows: one product at a time.
  const Matrix wide = random_matrix(64, 200, 40);
  auto packed_wide = b.pack_for_many_rows(wide.view);
  const std::vector<float> X2 = random_rows(M, 200, 41);
  std::vector<float> ya(static_cast<std::size_t>(M) * 64), yb(ya.size());
  const LinearJob mixed[2] = {{packed[0].get(), nullptr, ya.data(), 64}, {packed_wide.get(), nullptr, yb.data(), 64}};
  AcceleratorBooks m0, m1;
  b.accelerator_books(&m0);
  b.linear_many(X2.data(), M, 200, mixed, 2);
  b.accelerator_books(&m1);
  EXPECT_EQ(m1.batches - m0.batches, 2u);
  std::vector<float> yc(ya.size());
  b.linear(X2.data(), M, 200, *packed_wide, nullptr, yc.data(), 64);
  EXPECT_EQ(0, std::memcmp(yb.data(), yc.data(), yc.size() * sizeof(float)));
  LinearJob bad[9];
  for (LinearJob& j : bad) j = jobs[0];
  EXPECT_THROW(b.linear_many(X.data(), M, n_in, bad, 9), Error);
}

TEST(NpuBackend, AStopEndsAProductOnAHungDeviceAndLeavesItUsable) {
  EmulatorDevice* dev = nullptr;
  auto ctx = own_context(Generation::Npu1, {}, &dev);
  ctx->set_timeout_ms(60000);  // without the stop, the stalled run would hold the caller for a minute
  NpuBackend b(ctx, 1);
  const Matrix W = random_matrix(64, 64, 12);
  auto packed = b.pack_for_many_rows(W.view);
  const std::vector<float> X = random_rows(100, 64, 13);
  std::vector<float> want(100 * 64), Y(100 * 64);
  b.linear(X.data(), 100, 64, *packed, nullptr, want.data(), 64);

  std::atomic<bool> stop{false};
  b.set_cancel(&stop);
  FaultPlan stall;
  stall.fault = Fault::Stall;
  dev->set_fault(stall);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    stop = true;
  });
  b.linear(X.data(), 100, 64, *packed, nullptr, Y.data(), 64);  // returns: the caller checks its flag
  stopper.join();
  EXPECT_NO_THROW(ctx->check_usable()) << "a stop is not a device failure";

  // With the flag still raised nothing reaches the device at all.
  AcceleratorBooks before, after;
  b.accelerator_books(&before);
  b.linear(X.data(), 100, 64, *packed, nullptr, Y.data(), 64);
  b.accelerator_books(&after);
  EXPECT_EQ(after.launches, before.launches);

  dev->set_fault({});
  stop = false;
  b.linear(X.data(), 100, 64, *packed, nullptr, Y.data(), 64);
  EXPECT_EQ(0, std::memcmp(Y.data(), want.data(), Y.size() * sizeof(float))) << "the next window runs as before";

  // Not stopped, the stall is a time-out that disables the device.
  ctx->set_timeout_ms(50);
  dev->set_fault(stall);
  try {
    b.linear(X.data(), 100, 64, *packed, nullptr, Y.data(), 64);
    ADD_FAILURE() << "a stalled run without a stop returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_NE(std::string(e.what()).find("injected stall"), std::string::npos) << e.what();
  }
}

TEST(NpuBackend, KeepsTheDeviceWarmWhileAStreamRuns) {
  EmulatorDevice* dev = nullptr;
  auto ctx = own_context(Generation::Npu1, {}, &dev);
  ctx->set_keep_warm_ms(20);
  uint64_t launches_while_running = 0;
  {
    NpuBackend b(ctx, 1);
    const uint64_t at_start = dev->books().launches;
    for (int i = 0; i < 100 && ctx->keep_warm_launches() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_GE(ctx->keep_warm_launches(), 3u) << "no keep-warm launch in 2 s of idling at a 20 ms interval";
    EXPECT_GE(dev->books().launches - at_start, ctx->keep_warm_launches());
    AcceleratorBooks books;
    b.accelerator_books(&books);
    EXPECT_EQ(books.launches, 0u) << "keep-warm launches are the device's, not the stream's";
    launches_while_running = ctx->keep_warm_launches();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  const uint64_t after_stop = ctx->keep_warm_launches();
  EXPECT_GE(after_stop, launches_while_running);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(ctx->keep_warm_launches(), after_stop) << "the keeper goes on after the last stream stopped";

  // A device that fails its keep-warm run is disabled with a reason the next product reports.
  FaultPlan timeout;
  timeout.fault = Fault::Timeout;
  {
    NpuBackend b(ctx, 1);
    dev->set_fault(timeout);
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      try {
        ctx->check_usable();
      } catch (const Error&) {
        break;
      }
    }
    try {
      ctx->check_usable();
      ADD_FAILURE() << "a failed keep-warm run left the device usable";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("keeping the device warm"), std::string::npos) << e.what();
    }
  }
}

// The bring-up of a hardware backend ("npu"), over emulated devices standing in for XRT's: what is
// absent is information for "auto", what is present but broken is a warning, and "npu" itself is a
// resource error naming the reason either way.
TEST(NpuBringUp, AbsentDeviceMissingKernelsAndFailedSelfTestAreTellApart) {
  static int round = 0;
  const std::string name = "npu-bringup-" + std::to_string(++round);
  BackendSettings s;
  s.n_threads = 1;

  BackendProvider absent;
  absent.name = name + "-absent";
  absent.accelerator = true;
  absent.create_with_settings = [](const BackendSettings& st) {
    return open_npu_backend("absent", []() -> std::unique_ptr<Device> {
      throw Error(ErrorKind::Unavailable, "libnpw-npu-xrt.so not found (NPW_NPU_MODULE unset; looked next to the plugin)");
    }, st, true);
  };
  absent.create = [](int) -> std::unique_ptr<Backend> { return nullptr; };
  register_backend(absent);
  std::string note;
  bool warn = true;
  EXPECT_EQ(make_backend("auto", s, &note, &warn)->kind(), "cpu");
  EXPECT_FALSE(warn) << note;
  EXPECT_NE(note.find("libnpw-npu-xrt.so not found"), std::string::npos) << note;

  BackendProvider no_kernels = absent;
  no_kernels.name = name + "-nokernels";
  no_kernels.create_with_settings = [](const BackendSettings& st) {
    BackendSettings with_dir = st;
    with_dir.kernel_dir = "/nonexistent/npw-kernel-dir";
    return open_npu_backend("nokernels", [] { return std::make_unique<EmulatorDevice>(Generation::Npu1, 1); }, with_dir, true);
  };
  register_backend(no_kernels);
  EXPECT_EQ(make_backend("auto", s, &note, &warn)->kind(), "cpu");
  EXPECT_TRUE(warn) << note;
  EXPECT_NE(note.find("/nonexistent/npw-kernel-dir"), std::string::npos) << note;
  EXPECT_NE(note.find("does not exist"), std::string::npos) << note;

  BackendProvider zeros = absent;
  zeros.name = name + "-zeros";
  zeros.create_with_settings = [](const BackendSettings& st) {
    return open_npu_backend("zeros", [] {
      auto d = std::make_unique<EmulatorDevice>(Generation::Npu1, 1);
      d->set_fault(parse_fault_plan("zeros"));
      return d;
    }, st, false);
  };
  register_backend(zeros);
  try {
    make_backend(zeros.name, s, nullptr);
    ADD_FAILURE() << "a zeros kernel passed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unavailable);  // the element's RESOURCE error
    EXPECT_NE(std::string(e.what()).find("all zeros"), std::string::npos) << e.what();
  }
  EXPECT_EQ(make_backend("auto", s, &note, &warn)->kind(), "cpu");
  EXPECT_TRUE(warn);
  EXPECT_NE(note.find("self-test: kernel gemm_i8"), std::string::npos) << note;
  // Leave the registry as the other tests expect it: providers that create nothing are not tried.
  for (BackendProvider* p : {&absent, &no_kernels, &zeros}) {
    p->accelerator = false;
    register_backend(*p);
  }
}

}  // namespace
}  // namespace npu
}  // namespace npw
