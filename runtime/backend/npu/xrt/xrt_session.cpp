// The XRT side of each C-table call. The rules that matter for speed are here: nothing is allocated
// or synced that the backend did not ask for (the instruction buffer alone is written and synced once,
// at load), a hardware context is made once per xclbin, and a launch reuses the xrt::run (or, for a
// batch, the xrt::runlist) built the first time the same kernel met the same buffers.
#include "backend/npu/xrt/xrt_session.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace npw {
namespace npu {
namespace xrt_module {

namespace {

// The opcode mlir-aie's host code passes with an instruction stream (run the transaction in the
// instruction buffer). Not in the xclbin, hence a constant.
constexpr std::uint64_t kRunInstructionsOpcode = 3;

using Clock = std::chrono::steady_clock;

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// The generation from the name the amdxdna driver gives the device ("NPU Phoenix", "NPU Strix", ...;
// RyzenAI-npuN in some releases). Unknown names give 0, which the loader refuses by name.
void classify(npw_xrt_device* d) {
  const std::string& n = d->name;
  if (contains(n, "Phoenix") || contains(n, "Hawk") || contains(n, "npu1")) {
    d->generation = 1;
    d->columns = 4;
    d->rows = 4;
  } else if (contains(n, "Strix") || contains(n, "Krackan") || contains(n, "npu4") || contains(n, "npu5") ||
             contains(n, "npu6")) {
    d->generation = 2;
    d->columns = 8;
    d->rows = 4;
  }
}

const char* state_name(ert_cmd_state s) {
  switch (s) {
    case ERT_CMD_STATE_NEW: return "new";
    case ERT_CMD_STATE_QUEUED: return "queued";
    case ERT_CMD_STATE_RUNNING: return "running";
    case ERT_CMD_STATE_COMPLETED: return "completed";
    case ERT_CMD_STATE_ERROR: return "error";
    case ERT_CMD_STATE_ABORT: return "aborted";
    case ERT_CMD_STATE_SUBMITTED: return "submitted";
    case ERT_CMD_STATE_TIMEOUT: return "timed out";
    case ERT_CMD_STATE_NORESPONSE: return "no response";
    default: return "unknown state";
  }
}

void check_usable(const npw_xrt_device* dev) {
  if (!dev->broken.empty()) throw std::runtime_error("the NPU is no longer usable: " + dev->broken);
}

// Fixed-size keys: finding a launch's cached run allocates nothing.
using LaunchKey = std::array<std::uint64_t, 1 + NPW_XRT_MAX_ARGS>;

LaunchKey launch_key(const npw_xrt_launch& l) {
  LaunchKey key{};
  key[0] = l.kernel->id;
  for (unsigned a = 0; a < l.n_args && a < NPW_XRT_MAX_ARGS; ++a) key[1 + a] = l.args[a]->id;
  return key;
}

xrt::run make_run(const npw_xrt_launch& l) {
  const npw_xrt_kernel& k = *l.kernel;
  if (l.n_args > k.layout.data.size()) {
    throw std::runtime_error("kernel " + k.name + " takes " + std::to_string(k.layout.data.size()) +
                             " data buffers, the launch gave " + std::to_string(l.n_args));
  }
  xrt::run run(k.kernel);
  if (k.layout.opcode_size == 4) {
    run.set_arg(k.layout.opcode, static_cast<std::uint32_t>(kRunInstructionsOpcode));
  } else {
    run.set_arg(k.layout.opcode, kRunInstructionsOpcode);
  }
  run.set_arg(k.layout.instructions, k.instructions);
  if (k.layout.instruction_count_size == 8) {
    run.set_arg(k.layout.instruction_count, static_cast<std::uint64_t>(k.n_instruction_words));
  } else {
    run.set_arg(k.layout.instruction_count, static_cast<std::uint32_t>(k.n_instruction_words));
  }
  for (unsigned a = 0; a < l.n_args; ++a) run.set_arg(k.layout.data[a], l.args[a]->bo);
  return run;
}

// Drops every cached run (and runlist) that names `id`, so that a freed buffer or kernel is never
// reached through a stale run, and a new one that happens to reuse its address is never confused with it.
void forget(npw_xrt_device* dev, std::uint64_t id) {
  std::lock_guard<std::mutex> lock(dev->mutex);
  for (auto it = dev->runs.begin(); it != dev->runs.end();) {
    it = std::find(it->first.begin(), it->first.end(), id) != it->first.end() ? dev->runs.erase(it) : std::next(it);
  }
#ifdef NPW_XRT_HAS_RUNLIST
  for (auto it = dev->runlists.begin(); it != dev->runlists.end();) {
    it = std::find(it->first.begin(), it->first.end(), id) != it->first.end() ? dev->runlists.erase(it)
                                                                               : std::next(it);
  }
#endif
}

// How often a single run's wait looks at the caller's stop flag.
constexpr unsigned kWaitSliceMs = 10;

unsigned remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 1 ? static_cast<unsigned>(left) : 1u;
}

}  // namespace

npw_xrt_device* open_device(unsigned index) {
  auto dev = std::make_unique<npw_xrt_device>();
  dev->index = index;
  try {
    dev->device = xrt::device(index);
  } catch (const std::exception& e) {
    std::string why = e.what();
    while (!why.empty() && why.front() == ' ') why.erase(why.begin());
    struct stat st;
    const bool node = ::stat("/dev/accel/accel0", &st) == 0;
    throw std::runtime_error(std::string("no NPU device ") + std::to_string(index) + " (XRT: " + why + "); " +
                             (node ? "/dev/accel/accel0 exists: is XRT's NPU plugin (libxrt-npu2) installed and "
                                     "can this user open it?"
                                   : "no /dev/accel/accel0: is the amdxdna driver loaded (Linux 6.14+, or the "
                                     "xdna-driver package) and the NPU enabled in the firmware setup?"));
  }
  dev->name = dev->device.get_info<xrt::info::device::name>();
  classify(dev.get());
  return dev.release();
}

npw_xrt_kernel* load_kernel(npw_xrt_device* dev, const std::string& xclbin_path, const std::string& kernel_name,
                            const std::uint32_t* words, std::size_t n_words) {
  check_usable(dev);
  struct stat st;
  if (::stat(xclbin_path.c_str(), &st) != 0) throw std::runtime_error("xclbin " + xclbin_path + " does not exist");

  std::shared_ptr<HwContext> ctx;
  {
    std::lock_guard<std::mutex> lock(dev->mutex);
    auto it = dev->contexts.find(xclbin_path);
    if (it != dev->contexts.end()) ctx = it->second.lock();
    if (!ctx) {
      ctx = std::make_shared<HwContext>();
      ctx->xclbin_path = xclbin_path;
      ctx->xclbin = xrt::xclbin(xclbin_path);
      dev->device.register_xclbin(ctx->xclbin);
      ctx->context = xrt::hw_context(dev->device, ctx->xclbin.get_uuid());
      dev->contexts[xclbin_path] = ctx;
    }
  }
  auto k = std::make_unique<npw_xrt_kernel>();
  k->dev = dev;
  k->name = kernel_name;
  k->context = ctx;
  k->layout = read_kernel_layout(ctx->xclbin, kernel_name, xclbin_path);
  k->kernel = xrt::kernel(ctx->context, kernel_name);
  k->n_instruction_words = n_words;
  const std::size_t bytes = n_words * sizeof(std::uint32_t);
  k->instructions = xrt::bo(dev->device, bytes, xrt::bo::flags::cacheable, k->kernel.group_id(k->layout.instructions));
  std::memcpy(k->instructions.map<void*>(), words, bytes);
  k->instructions.sync(XCL_BO_SYNC_BO_TO_DEVICE, bytes, 0);
  std::lock_guard<std::mutex> lock(dev->mutex);
  k->id = dev->next_id++;
  return k.release();
}

void unload_kernel(npw_xrt_kernel* kernel) {
  forget(kernel->dev, kernel->id);
  delete kernel;
}

npw_xrt_buffer* alloc_buffer(npw_xrt_device* dev, npw_xrt_kernel* kernel, unsigned arg_index, std::size_t bytes) {
  check_usable(dev);
  if (arg_index >= kernel->layout.data.size()) {
    throw std::runtime_error("kernel " + kernel->name + " has " + std::to_string(kernel->layout.data.size()) +
                             " data buffers; there is no argument " + std::to_string(arg_index));
  }
  auto b = std::make_unique<npw_xrt_buffer>();
  b->dev = dev;
  b->size = bytes;
  b->bo = xrt::bo(dev->device, bytes, xrt::bo::flags::host_only, kernel->kernel.group_id(kernel->layout.data[arg_index]));
  std::lock_guard<std::mutex> lock(dev->mutex);
  b->id = dev->next_id++;
  return b.release();
}

void free_buffer(npw_xrt_buffer* buffer) {
  forget(buffer->dev, buffer->id);
  delete buffer;
}

void sync_buffer(npw_xrt_buffer* buffer, bool to_device, std::size_t offset, std::size_t bytes) {
  if (offset > buffer->size || bytes > buffer->size - offset) throw std::runtime_error("sync range outside the buffer");
  buffer->bo.sync(to_device ? XCL_BO_SYNC_BO_TO_DEVICE : XCL_BO_SYNC_BO_FROM_DEVICE, bytes, offset);
}

double run(npw_xrt_device* dev, const npw_xrt_launch* launches, std::size_t n, unsigned timeout_ms,
           const std::atomic<bool>* stop, bool* stopped) {
  *stopped = false;
  check_usable(dev);
  if (n == 0) return 0.0;
  // 0 means no limit, as in XRT.
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::milliseconds(timeout_ms);

#ifdef NPW_XRT_HAS_RUNLIST
  // One submission for the whole batch when all its kernels share a hardware context.
  bool one_context = n > 1;
  for (std::size_t i = 1; i < n && one_context; ++i) one_context = launches[i].kernel->context == launches[0].kernel->context;
  if (one_context) {
    // Reused per thread, so that after the first window a batch's lookup allocates nothing.
    thread_local std::vector<std::uint64_t> key;
    key.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const LaunchKey k = launch_key(launches[i]);
      key.insert(key.end(), k.begin(), k.end());
    }
    xrt::runlist list;
    {
      std::lock_guard<std::mutex> lock(dev->mutex);
      auto it = dev->runlists.find(key);
      if (it == dev->runlists.end()) {
        xrt::runlist fresh(launches[0].kernel->context->context);
        for (std::size_t i = 0; i < n; ++i) fresh.add(make_run(launches[i]));
        it = dev->runlists.emplace(key, std::move(fresh)).first;
      }
      list = it->second;
    }
    list.execute();
    try {
      if (list.wait(std::chrono::milliseconds(timeout_ms)) == std::cv_status::timeout) {
        dev->broken = "a batch of " + std::to_string(n) + " launches did not finish within " + std::to_string(timeout_ms) + " ms";
        throw std::runtime_error(dev->broken);
      }
    } catch (const xrt::runlist::command_error& e) {
      throw std::runtime_error(std::string("a launch in the batch failed: ") + e.what());
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
  }
#endif

  for (std::size_t i = 0; i < n; ++i) {
    xrt::run r;
    {
      std::lock_guard<std::mutex> lock(dev->mutex);
      const auto key = launch_key(launches[i]);
      auto it = dev->runs.find(key);
      if (it == dev->runs.end()) it = dev->runs.emplace(key, make_run(launches[i])).first;
      r = it->second;
    }
    r.start();
    // Waited in slices so that a stop is seen within one; 0 means no limit, as in XRT.
    ert_cmd_state state = ERT_CMD_STATE_TIMEOUT;
    for (;;) {
      const unsigned left = timeout_ms ? remaining_ms(deadline) : kWaitSliceMs;
      state = r.wait(std::chrono::milliseconds(std::max(1u, std::min(kWaitSliceMs, left))));
      if (state != ERT_CMD_STATE_TIMEOUT) break;
      if (stop && stop->load(std::memory_order_relaxed)) {
        r.abort();
        *stopped = true;
        return std::chrono::duration<double>(Clock::now() - start).count();
      }
      if (timeout_ms && Clock::now() >= deadline) break;
    }
    if (state == ERT_CMD_STATE_TIMEOUT) {
      r.abort();
      dev->broken = "launch " + std::to_string(i) + " of kernel " + launches[i].kernel->name + " did not finish within " +
                    std::to_string(timeout_ms) + " ms";
      throw std::runtime_error(dev->broken);
    }
    if (state != ERT_CMD_STATE_COMPLETED) {
      throw std::runtime_error("launch " + std::to_string(i) + " of kernel " + launches[i].kernel->name + " ended " +
                               state_name(state));
    }
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace xrt_module
}  // namespace npu
}  // namespace npw
