/* The fake XRT module's switches and counters, read and set by the loader's tests through the
 * module's fake_xrt_control() (found with dlsym on the same loaded module). */
#ifndef NPW_FAKE_XRT_CONTROL_H
#define NPW_FAKE_XRT_CONTROL_H

#include <stddef.h>

typedef struct {
  /* switches: nonzero makes every call of that function fail */
  int fail_open, fail_load, fail_alloc, fail_sync;
  int generation; /* what device_info reports (0: 2) */
  /* what the module saw */
  int devices_open, kernels_loaded, buffers_live;
  unsigned last_alloc_arg, last_batch;
  size_t last_instruction_words;
  unsigned long syncs;
} fake_xrt_state;

#endif
