// A stand-in for libnpw-npu-xrt.so that exports the same C table over host memory, so the runtime's
// loader (its books, its syncs, its argument passing and every error path) is tested without XRT.
// Each buffer has a host copy and a separate "device" copy: only the syncs move bytes between them,
// so a missing or mis-ranged sync shows in the results. Kernels the fake knows:
//   add_i32(a, b, out): out = a + b elementwise over int32 (out sized like a)
//   hang(...): never finishes, so the run reports a time-out (or, when stopped, NPW_XRT_STOPPED)
// fake_xrt_control() lets a test make the next call of a function fail and read what the module saw.
// Built three times: as the module, with a wrong ABI version (FAKE_ABI_VERSION) and without the table
// (FAKE_NO_TABLE).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "backend/npu/xrt_module_abi.h"

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION NPW_XRT_ABI_VERSION
#endif

struct npw_xrt_device {
  unsigned index;
};
struct npw_xrt_kernel {
  std::string name;
  size_t n_instruction_words;
};
struct npw_xrt_buffer {
  std::vector<unsigned char> host;
  std::vector<unsigned char> device;
};

extern "C" {

// What a test can set and read; layout shared with the tests through fake_xrt_control.h.
#include "fake_xrt_control.h"

__attribute__((visibility("default"))) fake_xrt_state* fake_xrt_control(void) {
  static fake_xrt_state state;
  return &state;
}

}  // extern "C"

namespace {

fake_xrt_state& st() { return *fake_xrt_control(); }

int fail(char* err, size_t len, const char* what) {
  std::snprintf(err, len, "%s", what);
  return 1;
}

int open_device(unsigned index, npw_xrt_device** out, char* err, size_t len) {
  if (st().fail_open) return fail(err, len, "no NPU device found (fake)");
  st().devices_open += 1;
  *out = new npw_xrt_device{index};
  return 0;
}

void close_device(npw_xrt_device* dev) {
  st().devices_open -= 1;
  delete dev;
}

int device_info(npw_xrt_device*, char* name, size_t name_len, int* generation, int* columns, int* rows, char*, size_t) {
  std::snprintf(name, name_len, "fake NPU");
  *generation = st().generation ? st().generation : 2;
  *columns = 8;
  *rows = 4;
  return 0;
}

int load_kernel(npw_xrt_device*, const char* xclbin, const char* name, const uint32_t*, size_t n_words,
                npw_xrt_kernel** out, char* err, size_t len) {
  if (st().fail_load) return fail(err, len, "xclbin rejected (fake)");
  (void)xclbin;
  st().kernels_loaded += 1;
  st().last_instruction_words = n_words;
  *out = new npw_xrt_kernel{name, n_words};
  return 0;
}

void unload_kernel(npw_xrt_kernel* k) {
  st().kernels_loaded -= 1;
  delete k;
}

int alloc_buffer(npw_xrt_device*, npw_xrt_kernel*, unsigned arg, size_t bytes, npw_xrt_buffer** out, void** host,
                 char* err, size_t len) {
  if (st().fail_alloc) return fail(err, len, "out of device memory (fake)");
  st().buffers_live += 1;
  st().last_alloc_arg = arg;
  auto* b = new npw_xrt_buffer{std::vector<unsigned char>(bytes), std::vector<unsigned char>(bytes)};
  *out = b;
  *host = b->host.data();
  return 0;
}

void free_buffer(npw_xrt_buffer* b) {
  st().buffers_live -= 1;
  delete b;
}

int sync_buffer(npw_xrt_buffer* b, int to_device, size_t offset, size_t bytes, char* err, size_t len) {
  if (st().fail_sync) return fail(err, len, "DMA error (fake)");
  if (offset + bytes > b->host.size()) return fail(err, len, "sync range outside the buffer (fake)");
  if (to_device) {
    std::memcpy(b->device.data() + offset, b->host.data() + offset, bytes);
  } else {
    std::memcpy(b->host.data() + offset, b->device.data() + offset, bytes);
  }
  st().syncs += 1;
  return 0;
}

int run(npw_xrt_device*, const npw_xrt_launch* launches, size_t n, unsigned timeout_ms, const void* stop,
        double* seconds, char* err, size_t len) {
  *seconds = 0.0;
  st().last_batch = static_cast<unsigned>(n);
  for (size_t i = 0; i < n; ++i) {
    const npw_xrt_launch& l = launches[i];
    if (l.kernel->name == "hang") {
      // Hung until the time limit, or until the caller's stop flag is raised.
      const auto* flag = static_cast<const std::atomic<bool>*>(stop);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      while (flag && !flag->load() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (flag && flag->load()) {
        fail(err, len, "stopped while waiting (fake)");
        return NPW_XRT_STOPPED;
      }
      char text[128];
      std::snprintf(text, sizeof text, "launch %zu did not finish within %u ms (fake)", i, timeout_ms);
      return fail(err, len, text);
    }
    if (l.kernel->name != "add_i32" || l.n_args != 3) return fail(err, len, "unknown kernel or argument count (fake)");
    const auto* a = reinterpret_cast<const int32_t*>(l.args[0]->device.data());
    const auto* b = reinterpret_cast<const int32_t*>(l.args[1]->device.data());
    auto* out = reinterpret_cast<int32_t*>(l.args[2]->device.data());
    const size_t count = l.args[2]->device.size() / sizeof(int32_t);
    for (size_t e = 0; e < count; ++e) out[e] = a[e] + b[e];
    *seconds += 0.001;
  }
  return 0;
}

const npw_xrt_api kApi = {FAKE_ABI_VERSION, "fake 0.0", open_device, close_device, device_info, load_kernel,
                          unload_kernel, alloc_buffer, free_buffer, sync_buffer, run};

}  // namespace

#ifndef FAKE_NO_TABLE
extern "C" __attribute__((visibility("default"))) const npw_xrt_api* npw_xrt_module_api(void) { return &kApi; }
#else
extern "C" __attribute__((visibility("default"))) const npw_xrt_api* npw_xrt_unrelated_symbol(void) { return &kApi; }
#endif
