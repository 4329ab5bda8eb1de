// Prints the argument layout the XRT module reads from a kernel in an xclbin, with the real XRT's
// xrt::xclbin, or the module's refusal. Built when XRT is found; it cannot run on Debian 12 (XRT 2.25
// needs a newer C library), so scripts/check-xrt-chroot.sh runs it in a Debian unstable chroot on
// xclbins it makes there with xclbinutil from the JSON in xclbin/.
//   xclbin_layout_check FILE KERNEL   ->  "opcode=0/8 instr=1 ninstr=2/4 data=3,4,5,6,7" or "refused: ..."
#include <cstdio>
#include <exception>
#include <string>

#include "backend/npu/xrt/xclbin_layout.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s FILE.xclbin KERNEL\n", argv[0]);
    return 2;
  }
  try {
    const xrt::xclbin xclbin{std::string(argv[1])};
    const auto l = npw::npu::xrt_module::read_kernel_layout(xclbin, argv[2], argv[1]);
    std::string data;
    for (int d : l.data) data += (data.empty() ? "" : ",") + std::to_string(d);
    std::printf("opcode=%d/%zu instr=%d ninstr=%d/%zu data=%s\n", l.opcode, l.opcode_size, l.instructions,
                l.instruction_count, l.instruction_count_size, data.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::printf("refused: %s\n", e.what());
    return 1;
  }
}
