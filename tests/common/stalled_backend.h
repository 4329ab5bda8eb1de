// A stand-in backend for cancellation tests: the CPU backend, except that while `stall` is on its
// products block until the stop flag they were given is set (as an NPU run would, waiting on the
// device), so a test can hold a window in flight for as long as it likes and check that cancelling
// releases it - without timing anything. Registered under a test's own name (or "npu" where the
// element's enum must reach it).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "backend/backend.h"
#include "backend/backend_registry.h"
#include "backend/cpu/cpu_backend.h"

namespace npwtest {

struct StallControl {
  std::atomic<bool> stall{false};     // products block while this is on
  std::atomic<int> stalled{0};        // products that have blocked so far
  std::atomic<int> released{0};       // products that a stop flag released
  int min_rows = 0;   // only products of at least this many rows stall (0: all)
  int only_rows = 0;  // > 0: only products of exactly this many rows stall (a decoder step's batch)
};

inline StallControl& stall_control() {
  static StallControl c;
  return c;
}

class StalledBackend : public npw::Backend {
 public:
  explicit StalledBackend(int n_threads) : cpu_(n_threads) {}
  std::string kind() const override { return "stall-test"; }
  std::unique_ptr<npw::PackedMatrix> pack(const npw::TensorView& w) const override { return cpu_.pack(w); }
  std::unique_ptr<npw::PackedMatrix> pack_for_many_rows(const npw::TensorView& w) const override {
    return cpu_.pack_for_many_rows(w);
  }
  void linear(const float* X, int M, int ldx, const npw::PackedMatrix& W, const float* bias, float* Y, int ldy) override {
    if (block(M)) return;
    cpu_.linear(X, M, ldx, W, bias, Y, ldy);
  }
  void matmul(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
              float beta, float* C, int ldc) override {
    if (block(M)) return;
    cpu_.matmul(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  void set_cancel(const std::atomic<bool>* flag) override { cancel_ = flag; }
  void set_threads(int n) override { cpu_.set_threads(n); }
  int threads() const override { return cpu_.threads(); }

 private:
  // True when the product was abandoned (the result is left unspecified, as the interface allows).
  bool block(int rows) {
    StallControl& c = stall_control();
    if (!c.stall || rows < c.min_rows || (c.only_rows > 0 && rows != c.only_rows)) return false;
    ++c.stalled;
    // Polls like a device wait would; never returns on its own: only the stop flag ends it.
    while (!(cancel_ && cancel_->load())) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++c.released;
    return true;
  }
  npw::CpuBackend cpu_;
  const std::atomic<bool>* cancel_ = nullptr;
};

inline void register_stalled_backend(const std::string& name) {
  npw::BackendProvider p;
  p.name = name;
  p.create = [](int n_threads) { return std::unique_ptr<npw::Backend>(new StalledBackend(n_threads)); };
  npw::register_backend(std::move(p));
}

}  // namespace npwtest
