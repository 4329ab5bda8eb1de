// The one symbol libnpw-npu-xrt.so exports: the C table the runtime's loader reads. Each entry
// catches every exception (XRT's included) and turns it into the sentence the loader puts in its
// npw::Error, so no C++ type or exception crosses the module boundary.
#include <atomic>
#include <cstdio>
#include <exception>
#include <string>

#include "backend/npu/xrt/xrt_session.h"
#include "backend/npu/xrt_module_abi.h"

#ifndef NPW_XRT_BUILT_AGAINST
#define NPW_XRT_BUILT_AGAINST "unknown version"
#endif

namespace {

namespace xm = npw::npu::xrt_module;

int report(char* err, std::size_t len, const std::string& text) {
  if (err && len) std::snprintf(err, len, "%s", text.c_str());
  return 1;
}

// Runs f, catching what it throws into err; 0 on success.
template <typename F>
int guarded(char* err, std::size_t len, F&& f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    return report(err, len, e.what());
  } catch (...) {
    return report(err, len, "unknown exception inside XRT");
  }
}

int open_device(unsigned index, npw_xrt_device** out, char* err, size_t len) {
  return guarded(err, len, [&] { *out = xm::open_device(index); });
}

void close_device(npw_xrt_device* dev) {
  try {
    delete dev;
  } catch (...) {
  }
}

int device_info(npw_xrt_device* dev, char* name, size_t name_len, int* generation, int* columns, int* rows, char* err,
                size_t len) {
  return guarded(err, len, [&] {
    std::snprintf(name, name_len, "%s", dev->name.c_str());
    *generation = dev->generation;
    *columns = dev->columns;
    *rows = dev->rows;
  });
}

int load_kernel(npw_xrt_device* dev, const char* xclbin_path, const char* kernel_name, const uint32_t* words,
                size_t n_words, npw_xrt_kernel** out, char* err, size_t len) {
  return guarded(err, len, [&] { *out = xm::load_kernel(dev, xclbin_path, kernel_name, words, n_words); });
}

void unload_kernel(npw_xrt_kernel* kernel) {
  try {
    xm::unload_kernel(kernel);
  } catch (...) {
  }
}

int alloc_buffer(npw_xrt_device* dev, npw_xrt_kernel* kernel, unsigned arg_index, size_t bytes, npw_xrt_buffer** out,
                 void** host, char* err, size_t len) {
  return guarded(err, len, [&] {
    npw_xrt_buffer* b = xm::alloc_buffer(dev, kernel, arg_index, bytes);
    *out = b;
    *host = b->bo.map<void*>();
  });
}

void free_buffer(npw_xrt_buffer* buffer) {
  try {
    xm::free_buffer(buffer);
  } catch (...) {
  }
}

int sync_buffer(npw_xrt_buffer* buffer, int to_device, size_t offset, size_t bytes, char* err, size_t len) {
  return guarded(err, len, [&] { xm::sync_buffer(buffer, to_device != 0, offset, bytes); });
}

int run(npw_xrt_device* dev, const npw_xrt_launch* launches, size_t n, unsigned timeout_ms, const void* stop,
        double* seconds, char* err, size_t len) {
  *seconds = 0.0;
  bool stopped = false;
  const int rc = guarded(err, len, [&] {
    *seconds = xm::run(dev, launches, n, timeout_ms, static_cast<const std::atomic<bool>*>(stop), &stopped);
  });
  if (rc == 0 && stopped) {
    report(err, len, "the wait for the device was stopped by the caller");
    return NPW_XRT_STOPPED;
  }
  return rc;
}

const npw_xrt_api kApi = {NPW_XRT_ABI_VERSION, NPW_XRT_BUILT_AGAINST, open_device, close_device, device_info,
                          load_kernel, unload_kernel, alloc_buffer, free_buffer, sync_buffer, run};

}  // namespace

extern "C" __attribute__((visibility("default"))) const npw_xrt_api* npw_xrt_module_api(void) { return &kApi; }
