/* The C boundary between the runtime and the XRT module (libnpw-npu-xrt.so). The module is built
 * against XRT and loaded with dlopen at run time, so that the plugin loads and works where XRT is
 * absent or too new for the C library; a plain C table keeps C++ types and exceptions from crossing
 * the boundary. The runtime's loader (open_xrt_device) wraps it into an npw::npu::Device.
 * Every function that can fail returns 0 on success, or nonzero after writing a NUL-terminated
 * sentence naming the thing and the reason into err (err_len bytes). */
#ifndef NPW_XRT_MODULE_ABI_H
#define NPW_XRT_MODULE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NPW_XRT_ABI_VERSION 2u
#define NPW_XRT_MAX_ARGS 6
/* run()'s return value when the caller's stop flag ended the wait (not a device failure). */
#define NPW_XRT_STOPPED 2

typedef struct npw_xrt_device npw_xrt_device;
typedef struct npw_xrt_kernel npw_xrt_kernel;
typedef struct npw_xrt_buffer npw_xrt_buffer;

typedef struct {
  npw_xrt_kernel* kernel;
  npw_xrt_buffer* args[NPW_XRT_MAX_ARGS];
  unsigned n_args;
} npw_xrt_launch;

typedef struct {
  uint32_t abi_version; /* NPW_XRT_ABI_VERSION */
  const char* xrt_version; /* the XRT the module was built against */

  int (*open_device)(unsigned index, npw_xrt_device** out, char* err, size_t err_len);
  void (*close_device)(npw_xrt_device* dev);
  /* generation: 1 (npu1) or 2 (npu2) */
  int (*device_info)(npw_xrt_device* dev, char* name, size_t name_len, int* generation, int* columns, int* rows,
                     char* err, size_t err_len);
  int (*load_kernel)(npw_xrt_device* dev, const char* xclbin_path, const char* kernel_name,
                     const uint32_t* instructions, size_t n_instruction_words, npw_xrt_kernel** out, char* err,
                     size_t err_len);
  void (*unload_kernel)(npw_xrt_kernel* kernel);
  int (*alloc_buffer)(npw_xrt_device* dev, npw_xrt_kernel* kernel, unsigned arg_index, size_t bytes,
                      npw_xrt_buffer** out, void** host, char* err, size_t err_len);
  void (*free_buffer)(npw_xrt_buffer* buffer);
  int (*sync_buffer)(npw_xrt_buffer* buffer, int to_device, size_t offset, size_t bytes, char* err,
                     size_t err_len);
  /* Runs n launches in order and waits for all (timeout_ms in total); *device_seconds receives the
   * measured time from start to completion. stop (may be NULL) points to the caller's stop flag, a
   * C++ std::atomic<bool> (both sides are C++ built by the same compiler; C code passes NULL): when it
   * is raised the wait ends as soon as the device allows and NPW_XRT_STOPPED is returned with err set.
   * Version 2: the stop flag. */
  int (*run)(npw_xrt_device* dev, const npw_xrt_launch* launches, size_t n, unsigned timeout_ms,
             const void* stop, double* device_seconds, char* err, size_t err_len);
} npw_xrt_api;

/* The one symbol the module exports. */
typedef const npw_xrt_api* (*npw_xrt_module_api_fn)(void);
#define NPW_XRT_MODULE_API_SYMBOL "npw_xrt_module_api"

#ifdef __cplusplus
}
#endif

#endif
