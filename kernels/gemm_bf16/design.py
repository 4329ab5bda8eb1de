# The IRON design of gemm_bf16 for one run shape on npu1 or npu2: the shared whole-array placement of
# ../gemm_design.py with this op's element types and core program (gemm_bf16.cc). Prints MLIR:
#   python3 design.py --generation npu1 -M 1536 -N 1152 -K 384 > gemm_bf16.mlir
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import gemm_design  # noqa: E402

if __name__ == "__main__":
    sys.exit(gemm_design.main(op="gemm_bf16"))
