# The IRON (mlir-aie Python) design shared by gemm_i8 and gemm_bf16: C[M][N] = A[M][K] * B[N][K]^T
# over the whole array of an XDNA NPU, for one run shape. Close to mlir-aie's
# programming_examples/basic/matrix_multiplication/whole_array, with B stored by output row (the
# contracts' layout, "b_col_maj" there) and the npu2 array of 8 columns:
#
# - the core in row `row` and column `col` computes, for every strip of rows x m rows of A, the m x n
#   tiles of C at rows row*m.. of the strip and at the output blocks col, col + cols, col + 2 cols, ...
#   (n wide): rows of cores split a strip, columns of cores deal out B's output rows round-robin;
# - A goes shim -> memory tile -> core rows (each row's m x k tile broadcast along its row of cores);
#   only min(rows, cols) shims carry A (npu2 has more columns than rows);
# - B goes shim -> memory tile -> the column's 4 cores (one n x k tile broadcast down the column);
# - C goes core -> memory tile (the column's 4 tiles joined) -> shim, un-blocked to row-major.
# Each core zeroes its C tile, runs K/k k-steps, releases it; the runtime sequence streams the whole
# matrices with ping-pong task groups so the shim DMAs never wait on the host.
#
# This file only builds the MLIR; kernels/build_kernels.py compiles it with aiecc.py.
import argparse
import sys

# Per generation: array, tile sizes (m, k, n) and the multiplier's block shapes (r, s, t) per op, as
# the contracts' padding tables give them.
GENERATIONS = {
    "npu1": {"cols": 4, "rows": 4, "tile": (64, 64, 32), "mmul": {"gemm_i8": (4, 8, 8), "gemm_bf16": (4, 8, 4)}},
    "npu2": {"cols": 8, "rows": 4, "tile": (64, 64, 16), "mmul": {"gemm_i8": (8, 8, 8), "gemm_bf16": (8, 8, 8)}},
}

OPS = {
    # op: (input element, output element, core function prefix)
    "gemm_i8": ("i8", "i32", "gemm_i8"),
    "gemm_bf16": ("bf16", "f32", "gemm_bf16"),
}


def padding(generation):
    """The multiples Mp, Np, Kp must be (the contracts' table): m x rows, n x cols, k."""
    g = GENERATIONS[generation]
    m, k, n = g["tile"]
    return m * g["rows"], n * g["cols"], k


def check_shape(op, generation, M, N, K):
    pm, pn, pk = padding(generation)
    for name, value, mult in (("Mp", M, pm), ("Np", N, pn), ("Kp", K, pk)):
        if value <= 0 or value % mult:
            raise ValueError(f"{op} {generation}: {name} = {value} must be a positive multiple of {mult}")


def element_type(name):
    import numpy as np

    if name == "bf16":
        from ml_dtypes import bfloat16

        return bfloat16
    return {"i8": np.int8, "i32": np.int32, "f32": np.float32}[name]


def core_object(op, generation):
    """The object file build_kernels.py compiles the core program into."""
    return f"{op}_{generation}.o"


def design(op, generation, M, N, K):
    """Returns the MLIR module of `op` for one (Mp, Np, Kp) on `generation`."""
    # Imported here so that planning (shapes, manifest, dry run) needs neither numpy nor mlir-aie.
    import numpy as np
    from aie.iron import Kernel, ObjectFifo, Program, Runtime, Worker
    from aie.iron.controlflow import range_
    from aie.iron.device import NPU1Col4, NPU2, Tile
    from aie.iron.placers import SequentialPlacer
    from aie.helpers.taplib import TensorTiler2D

    check_shape(op, generation, M, N, K)
    g = GENERATIONS[generation]
    cols, rows = g["cols"], g["rows"]
    m, k, n = g["tile"]
    r, s, t = g["mmul"][op]
    in_name, out_name, prefix = OPS[op]
    dt_in, dt_out = element_type(in_name), element_type(out_name)
    device = NPU1Col4() if generation == "npu1" else NPU2()

    row_blocks = M // (m * rows)  # strips of rows x m rows of A and C
    col_blocks_per_core = N // (n * cols)  # n-wide output blocks each column of cores owns
    tiles_per_core = row_blocks * col_blocks_per_core
    k_steps = K // k
    a_shims = min(rows, cols)  # shims that carry A
    a_tiles_per_shim = rows // a_shims
    depth = 2

    A_ty = np.ndarray[(M * K,), np.dtype[dt_in]]
    B_ty = np.ndarray[(N * K,), np.dtype[dt_in]]
    C_ty = np.ndarray[(M * N,), np.dtype[dt_out]]
    A_l2_ty = np.ndarray[(m * k * a_tiles_per_shim,), np.dtype[dt_in]]
    B_l2_ty = np.ndarray[(n * k,), np.dtype[dt_in]]
    C_l2_ty = np.ndarray[(m * n * rows,), np.dtype[dt_out]]
    A_l1_ty = np.ndarray[(m, k), np.dtype[dt_in]]
    B_l1_ty = np.ndarray[(n, k), np.dtype[dt_in]]
    C_l1_ty = np.ndarray[(m, n), np.dtype[dt_out]]

    obj = core_object(op, generation)
    zero = Kernel(f"{prefix}_zero", obj, [C_l1_ty])
    tile_product = Kernel(f"{prefix}_tile", obj, [A_l1_ty, B_l1_ty, C_l1_ty])

    # A: per carrying shim, one fifo into its memory tile, split into the m x k tiles of its rows,
    # each re-ordered into r x s blocks on the way to the cores.
    a_l3l2 = []
    a_l2l1 = [None] * rows
    for shim in range(a_shims):
        fifo = ObjectFifo(A_l2_ty, name=f"A_L3L2_{shim}", depth=depth)
        a_l3l2.append(fifo)
        first = shim * a_tiles_per_shim
        parts = fifo.cons().split(
            [m * k * i for i in range(a_tiles_per_shim)],
            obj_types=[A_l1_ty] * a_tiles_per_shim,
            names=[f"A_L2L1_{row}" for row in range(first, first + a_tiles_per_shim)],
            dims_to_stream=[[(m // r, r * k), (k // s, s), (r, k), (s, 1)]] * a_tiles_per_shim,
            placement=Tile(shim, 1),
        )
        for i, part in enumerate(parts):
            a_l2l1[first + i] = part

    # B: per column, an n x k tile (n output rows of k), re-ordered into t x s blocks.
    b_l3l2, b_l2l1 = [], []
    # C: per column, the 4 cores' m x n tiles joined in the memory tile and un-blocked to row-major.
    c_l2l3, c_l1l2 = [], [[None] * cols for _ in range(rows)]
    for col in range(cols):
        fifo = ObjectFifo(B_l2_ty, name=f"B_L3L2_{col}", depth=depth)
        b_l3l2.append(fifo)
        b_l2l1.append(
            fifo.cons().forward(
                obj_type=B_l1_ty,
                name=f"B_L2L1_{col}",
                dims_to_stream=[(n // t, t * k), (k // s, s), (t, k), (s, 1)],
                placement=Tile(col, 1),
            )
        )
        out = ObjectFifo(
            C_l2_ty,
            name=f"C_L2L3_{col}",
            depth=depth,
            dims_to_stream=[(m // r, r * n), (r, t), (n // t, r * t), (t, 1)],
        )
        c_l2l3.append(out)
        joined = out.prod().join(
            [m * n * row for row in range(rows)],
            obj_types=[C_l1_ty] * rows,
            names=[f"C_L1L2_{col}_{row}" for row in range(rows)],
            depths=[depth] * rows,
            placement=Tile(col, 1),
        )
        for row in range(rows):
            c_l1l2[row][col] = joined[row]

    def core_fn(a_in, b_in, c_out, zero_fn, product_fn):
        for _ in range_(tiles_per_core) if tiles_per_core > 1 else range(1):
            c = c_out.acquire(1)
            zero_fn(c)
            for _ in range_(k_steps) if k_steps > 1 else range(1):
                a = a_in.acquire(1)
                b = b_in.acquire(1)
                product_fn(a, b, c)
                a_in.release(1)
                b_in.release(1)
            c_out.release(1)

    workers = [
        Worker(
            core_fn,
            [a_l2l1[row].cons(), b_l2l1[col].cons(), c_l1l2[row][col].prod(), zero, tile_product],
            placement=Tile(col, 2 + row),
        )
        for row in range(rows)
        for col in range(cols)
    ]

    # Host-side access patterns over the whole matrices.
    a_taps = TensorTiler2D.group_tiler(
        (M, K), (m * a_tiles_per_shim, k), (1, k_steps), pattern_repeat=col_blocks_per_core
    )
    b_taps = TensorTiler2D.step_tiler(
        (N, K), (n, k), tile_group_repeats=(col_blocks_per_core, k_steps), tile_group_steps=(cols, 1)
    )
    group_rows = 2 if row_blocks % 2 == 0 else 1  # row-blocks per task group (ping-pong halves)
    c_taps = TensorTiler2D.step_tiler(
        (M, N), (m * rows, n), tile_group_repeats=(group_rows, col_blocks_per_core), tile_group_steps=(1, cols)
    )

    rt = Runtime()
    with rt.sequence(A_ty, B_ty, C_ty) as (A, B, C):
        rt.start(*workers)
        tg = rt.task_group()
        c_index = 0
        for group in range(row_blocks // group_rows):
            for col in range(cols):
                rt.drain(c_l2l3[col].cons(), C, tap=c_taps[c_index], wait=True, task_group=tg, placement=Tile(col, 0))
                c_index += 1
            for block in range(group * group_rows, (group + 1) * group_rows):
                for shim in range(a_shims):
                    rt.fill(a_l3l2[shim].prod(), A, tap=a_taps[block * a_shims + shim], task_group=tg,
                            placement=Tile(shim, 0))
                for col in range(cols):
                    rt.fill(b_l3l2[col].prod(), B, tap=b_taps[col], task_group=tg, placement=Tile(col, 0))
            rt.finish_task_group(tg)
            tg = rt.task_group()
        rt.finish_task_group(tg)

    return Program(device, rt).resolve_program(SequentialPlacer())


def main(op=None, argv=None):
    p = argparse.ArgumentParser(description="Prints the MLIR of an npuwhisper gemm kernel for one run shape")
    if op is None:
        p.add_argument("--op", choices=sorted(OPS), required=True)
    p.add_argument("--generation", choices=sorted(GENERATIONS), required=True)
    p.add_argument("-M", type=int, required=True, help="Mp: rows of A and C")
    p.add_argument("-N", type=int, required=True, help="Np: rows of B, columns of C")
    p.add_argument("-K", type=int, required=True, help="Kp: the reduced dimension")
    args = p.parse_args(argv)
    try:
        module = design(op or args.op, args.generation, args.M, args.N, args.K)
    except ValueError as e:
        print(f"{p.prog}: {e}", file=sys.stderr)
        return 1
    print(module)
    return 0


if __name__ == "__main__":
    sys.exit(main())
