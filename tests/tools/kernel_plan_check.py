#!/usr/bin/env python3
"""kernels/build_kernels.py --dry-run: the kernel directory's manifest for tiny and large-v3 is in the
format kernels/manifest.md defines, every shape keeps the contract's padding multiples and maxima,
the products the encoder needs are there, and a bad model name is refused."""
import os
import subprocess
import sys
import tempfile

script = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with tempfile.TemporaryDirectory() as out:
    done = subprocess.run([sys.executable, script, "--dry-run", "--out", out, "--models", "tiny,large-v3",
                           "--ops", "gemm_i8,gemm_bf16"],
                          capture_output=True, text=True)
    check(done.returncode == 0, f"dry run failed: {done.stderr}")
    lines = [l for l in open(os.path.join(out, "manifest.txt")).read().splitlines() if l and not l.startswith("#")]
    check(lines[0] == "npuwhisper-kernels 1", f"first line: {lines[0]}")
    ops = [l.split() for l in lines if l.startswith("op ")]
    shapes = [l.split() for l in lines if l.startswith("shape ")]
    check(sorted((o[1], o[2]) for o in ops) == [("gemm_bf16", "npu1"), ("gemm_bf16", "npu2"),
                                                    ("gemm_i8", "npu1"), ("gemm_i8", "npu2")], f"op lines: {ops}")
    for o in ops:
        check("kernel=MLIR_AIE" in o and "pad=256,128,64" in o, f"op line: {o}")
    dims = set()
    for s in shapes:
        m, n, k = (int(x) for x in s[3].split(","))
        dims.add((s[1], s[2], m, n, k))
        check(m % 256 == 0 and n % 128 == 0 and k % 64 == 0, f"padding: {s}")
        check(m <= 3072 and n <= 6144 and k <= 5120, f"maxima: {s}")
        name = f"{s[1]}_{s[2]}_{m}x{n}x{k}"
        check(s[4] == f"insts={name}.insts.bin" and s[5] == f"xclbin={name}.xclbin", f"files: {s}")
    for op_gen in [(op, gen) for op in ("gemm_i8", "gemm_bf16") for gen in ("npu1", "npu2")]:
        for want in [(3072, 384, 256), (1536, 1152, 384), (1536, 384, 1536),  # tiny: conv1, qkv, mlp down
                     (3072, 1280, 384), (1536, 5120, 1280), (1536, 1280, 5120), (1536, 1280, 3840)]:  # large-v3
            check(op_gen + want in dims, f"{op_gen} {want} missing")
    check("python3 kernels/gemm_i8/design.py --generation npu1" in done.stdout, "design commands not printed")
    bad = subprocess.run([sys.executable, script, "--list-outputs", "--models", "huge"], capture_output=True, text=True)
    check(bad.returncode != 0 and "huge not among" in bad.stderr, f"bad model: {bad.returncode} {bad.stderr}")

for f in failures:
    print("FAIL", f)
print(f"{len(shapes)} shapes planned; {'ok' if not failures else 'failed'}")
sys.exit(1 if failures else 0)
