#!/usr/bin/env python3
# Builds npuwhisper's NPU kernels with the mlir-aie toolchain (aiecc.py with Peano) into one flat
# kernel directory and writes its manifest.txt (format: kernels/manifest.md): per op and generation
# the core program compiled once, per run shape an xclbin and an instruction stream. meson runs it
# when -Dnpu_kernels=enabled; it can also be run by hand (see kernels/README.md):
#
#   kernels/build_kernels.py --out DIR [--models tiny,base] [--generations npu1,npu2] [--ops gemm_i8]
#   kernels/build_kernels.py --list-outputs ...     (file names only, for meson)
#   kernels/build_kernels.py --dry-run --out DIR ... (the manifest and the commands, nothing compiled)
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gemm_design  # noqa: E402
import shapes  # noqa: E402

KERNEL_NAME = "MLIR_AIE"  # aiecc.py's default kernel name inside the xclbin
PEANO_TARGET = {"npu1": "aie2-none-unknown-elf", "npu2": "aie2p-none-unknown-elf"}


def shape_name(op, generation, shape):
    return f"{op}_{generation}_{shape[0]}x{shape[1]}x{shape[2]}"


def plan(ops, generations, models):
    """[(op, generation, [shapes])] in a fixed order."""
    return [(op, g, shapes.padded_shapes(models, g)) for op in ops for g in generations]


def outputs(work):
    files = ["manifest.txt"]
    for op, g, shs in work:
        for sh in shs:
            files += [shape_name(op, g, sh) + ".xclbin", shape_name(op, g, sh) + ".insts.bin"]
    return files


def manifest_text(work):
    lines = ["npuwhisper-kernels 1", "# written by kernels/build_kernels.py; one xclbin per shape (static loop bounds)"]
    for op, g, shs in work:
        pm, pn, pk = gemm_design.padding(g)
        first = shape_name(op, g, shs[0]) + ".xclbin"
        lines.append(f"op {op} {g} xclbin={first} kernel={KERNEL_NAME} pad={pm},{pn},{pk}")
        for sh in shs:
            name = shape_name(op, g, sh)
            lines.append(f"shape {op} {g} {sh[0]},{sh[1]},{sh[2]} insts={name}.insts.bin xclbin={name}.xclbin")
    return "\n".join(lines) + "\n"


def find_peano(given):
    for candidate in (given, os.environ.get("PEANO_INSTALL_DIR")):
        if candidate and os.path.isfile(os.path.join(candidate, "bin", "clang++")):
            return candidate
    try:
        import llvm_aie  # the llvm-aie wheel ships Peano

        root = os.path.dirname(llvm_aie.__file__)
        if os.path.isfile(os.path.join(root, "bin", "clang++")):
            return root
    except ImportError:
        pass
    return None


def aie_api_include():
    env = os.environ.get("MLIR_AIE_INCLUDE_DIR")
    if env:
        return env
    from aie.utils.config import cxx_header_path  # the mlir-aie wheel's headers (aie_api/)

    return cxx_header_path()


def core_compile_command(op, g, peano, include, out):
    m, k, n = gemm_design.GENERATIONS[g]["tile"]
    r, s, t = gemm_design.GENERATIONS[g]["mmul"][op]
    return [
        os.path.join(peano, "bin", "clang++"), "-O2", "-std=c++20", f"--target={PEANO_TARGET[g]}", "-DNDEBUG",
        "-Wno-parentheses", "-Wno-attributes", "-Wno-macro-redefined", f"-I{include}",
        f"-DDIM_M={m}", f"-DDIM_K={k}", f"-DDIM_N={n}", f"-DMMUL_R={r}", f"-DMMUL_S={s}", f"-DMMUL_T={t}",
        "-c", os.path.join(HERE, op, op + ".cc"), "-o", out,
    ]


def aiecc_command(aiecc, peano, mlir, xclbin, insts):
    return [
        aiecc, "--no-xchesscc", "--no-xbridge", "--peano", peano, "--no-compile-host",
        "--aie-generate-xclbin", f"--xclbin-name={xclbin}", f"--xclbin-kernel-name={KERNEL_NAME}",
        "--aie-generate-npu-insts", f"--npu-insts-name={insts}", mlir,
    ]


def run(cmd, cwd, log):
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    done = subprocess.run(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} failed (exit {done.returncode}); see {log.name}")


def build(work, out, aiecc, peano, log):
    include = aie_api_include()
    for op, g, shs in work:
        with tempfile.TemporaryDirectory(prefix=f"npw-{op}-{g}-") as tmp:
            obj = os.path.join(tmp, gemm_design.core_object(op, g))
            run(core_compile_command(op, g, peano, include, obj), tmp, log)
            for sh in shs:
                name = shape_name(op, g, sh)
                mlir = os.path.join(tmp, name + ".mlir")
                with open(mlir, "w") as f:
                    f.write(str(gemm_design.design(op, g, sh[0], sh[1], sh[2])))
                run(aiecc_command(aiecc, peano, mlir, os.path.join(out, name + ".xclbin"),
                                  os.path.join(out, name + ".insts.bin")), tmp, log)
                print(f"build_kernels: {name}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", help="the kernel directory to write")
    p.add_argument("--models", default="tiny,base,small,medium,large-v3")
    p.add_argument("--generations", default="npu1,npu2")
    p.add_argument("--ops", default="gemm_i8,gemm_bf16")
    p.add_argument("--aiecc", default=shutil.which("aiecc.py") or "aiecc.py")
    p.add_argument("--peano", default="", help="Peano's install directory (default: $PEANO_INSTALL_DIR, the llvm-aie wheel)")
    p.add_argument("--list-outputs", action="store_true")
    p.add_argument("--dry-run", action="store_true")
    a = p.parse_args()

    def split(value, known, what):
        items = [x for x in value.split(",") if x]
        bad = [x for x in items if x not in known]
        if bad or not items:
            p.error(f"--{what}: {','.join(bad) or 'nothing'} not among {','.join(known)}")
        return items

    work = plan(split(a.ops, sorted(gemm_design.OPS), "ops"), split(a.generations, sorted(gemm_design.GENERATIONS),
                "generations"), split(a.models, list(shapes.MODELS), "models"))
    if a.list_outputs:
        print("\n".join(outputs(work)))
        return 0
    if not a.out:
        p.error("--out is required")
    os.makedirs(a.out, exist_ok=True)
    if a.dry_run:
        for op, g, shs in work:
            print("$ " + " ".join(core_compile_command(op, g, a.peano or "$PEANO_INSTALL_DIR", "$AIE_API", gemm_design.core_object(op, g))))
            for sh in shs:
                name = shape_name(op, g, sh)
                print(f"$ python3 kernels/{op}/design.py --generation {g} -M {sh[0]} -N {sh[1]} -K {sh[2]} > {name}.mlir")
                print("$ " + " ".join(aiecc_command(a.aiecc, a.peano or "$PEANO_INSTALL_DIR", name + ".mlir",
                                                    name + ".xclbin", name + ".insts.bin")))
    else:
        peano = find_peano(a.peano)
        if not peano:
            print("build_kernels: Peano not found: set PEANO_INSTALL_DIR or pip install llvm-aie (kernels/README.md)",
                  file=sys.stderr)
            return 1
        with open(os.path.join(a.out, "build_kernels.log"), "w") as log:
            try:
                build(work, a.out, a.aiecc, peano, log)
            except (RuntimeError, OSError) as e:
                print(f"build_kernels: {e}", file=sys.stderr)
                return 1
    with open(os.path.join(a.out, "manifest.txt"), "w") as f:
        f.write(manifest_text(work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
