// Reads a kernel's argument list from its xclbin. Names first (mlir-aie writes "opcode", "instr",
// "ninstr", then "bo0".."boN"); when a toolchain names them otherwise, the shape of the list decides:
// the first scalar is the opcode, the first buffer the instructions, the next scalar their count,
// the remaining buffers the data. Anything else is refused rather than guessed.
#include "backend/npu/xrt/xclbin_layout.h"

#include <algorithm>
#include <stdexcept>

namespace npw {
namespace npu {
namespace xrt_module {

namespace {

struct Arg {
  int index;
  std::string name;
  std::string host_type;
  std::size_t size;
  bool buffer;
};

bool is_buffer(const xrt::xclbin::arg& a) {
  const std::string type = a.get_host_type();
  return type.find('*') != std::string::npos || !a.get_mems().empty();
}

}  // namespace

std::string kernel_names(const xrt::xclbin& xclbin) {
  std::string names;
  for (const auto& k : xclbin.get_kernels()) names += (names.empty() ? "" : ", ") + k.get_name();
  return names.empty() ? std::string("none") : names;
}

KernelArgLayout read_kernel_layout(const xrt::xclbin& xclbin, const std::string& kernel_name,
                                   const std::string& xclbin_path) {
  const std::string what = "kernel " + kernel_name + " in " + xclbin_path;
  xrt::xclbin::kernel kernel;
  for (const auto& k : xclbin.get_kernels()) {
    if (k.get_name() == kernel_name) kernel = k;
  }
  if (!kernel) throw std::runtime_error(xclbin_path + " holds no kernel " + kernel_name + " (it has: " + kernel_names(xclbin) + ")");

  std::vector<Arg> args;
  for (const auto& a : kernel.get_args()) {
    args.push_back({static_cast<int>(a.get_index()), a.get_name(), a.get_host_type(), a.get_size(), is_buffer(a)});
  }
  std::sort(args.begin(), args.end(), [](const Arg& x, const Arg& y) { return x.index < y.index; });
  if (args.empty()) throw std::runtime_error(what + " declares no arguments");

  KernelArgLayout layout;
  auto by_name = [&](const char* name) -> const Arg* {
    for (const auto& a : args) {
      if (a.name == name) return &a;
    }
    return nullptr;
  };
  const Arg* opcode = by_name("opcode");
  const Arg* instr = by_name("instr");
  const Arg* ninstr = by_name("ninstr");
  if (!(opcode && instr && ninstr)) {
    // Unnamed: scalar, buffer, scalar at the head of the list.
    if (args.size() < 3 || args[0].buffer || !args[1].buffer || args[2].buffer) {
      std::string list;
      for (const auto& a : args) list += (list.empty() ? "" : ", ") + a.name + ":" + a.host_type;
      throw std::runtime_error(what + " does not take (opcode, instructions, instruction count, buffers...) as an NPU "
                               "kernel built by mlir-aie does; its arguments are: " + list);
    }
    opcode = &args[0];
    instr = &args[1];
    ninstr = &args[2];
  }
  if (opcode->buffer || !instr->buffer || ninstr->buffer) {
    throw std::runtime_error(what + ": 'opcode' and 'ninstr' must be scalars and 'instr' a buffer");
  }
  layout.opcode = opcode->index;
  layout.opcode_size = opcode->size ? opcode->size : 8;
  layout.instructions = instr->index;
  layout.instruction_count = ninstr->index;
  layout.instruction_count_size = ninstr->size ? ninstr->size : 4;
  for (const auto& a : args) {
    if (a.index == layout.opcode || a.index == layout.instructions || a.index == layout.instruction_count) continue;
    if (!a.buffer) {
      throw std::runtime_error(what + ": argument " + a.name + " (" + a.host_type +
                               ") is a scalar after the data buffers began; this module passes buffers only");
    }
    layout.data.push_back(a.index);
  }
  if (layout.data.empty()) throw std::runtime_error(what + " takes no data buffers");
  return layout;
}

}  // namespace xrt_module
}  // namespace npu
}  // namespace npw
