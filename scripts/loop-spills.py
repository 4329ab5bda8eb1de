#!/usr/bin/env python3
# Lists the functions of object files whose innermost loops store vector registers to the stack while
# they multiply-add: an accumulator array that GCC kept in memory, or registers spilled for want of
# room. GCC 12 unrolls a small constant loop over a register block (acc[r][c] for r < RB) late, after
# it has decided which arrays become registers, so the array keeps its stack home and every iteration
# stores all of it: the AVX2 attention's half-value block stored 12 accumulators per key and ran at
# two thirds of the float block's rate. "#pragma GCC unroll" on those loops is the cure; the stores
# per iteration are the count. A count is a lead: real spills of an over-full register block show
# up too, and a loop bound by memory may lose little to them.
#
#   scripts/loop-spills.py build-release/runtime/libnpw_runtime.a.p/*.o
import re
import subprocess
import sys

JUMP = re.compile(r"j\w+\s+([0-9a-f]+)\s")
STACK_STORE = re.compile(r"vmov(aps|ups|dqa|dqu)\w*\s+%[xyz]mm\d+,.*\(%rsp\)")
MULTIPLY_ADD = re.compile(r"(\{vex\} )?(vfn?madd|vpdpbusd|vpmaddwd|vpmaddubsw|vdpbf16ps)")
LONGEST_LOOP = 400  # instructions: past this a "loop" is a function's outer structure


def innermost_loops(ins):
    """(first, last) indices of loops closed by a backward jump with no other loop inside."""
    index = {addr: i for i, (addr, _) in enumerate(ins)}
    for i, (addr, text) in enumerate(ins):
        m = JUMP.match(text)
        if not m:
            continue
        target = int(m.group(1), 16)
        if target >= addr or target not in index or i - index[target] > LONGEST_LOOP:
            continue
        first = index[target]
        nested = False
        for a, t in ins[first:i]:
            mm = JUMP.match(t)
            if mm and target <= int(mm.group(1), 16) < a:
                nested = True
                break
        if not nested:
            yield first, i


def scan(obj):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", obj], capture_output=True, text=True,
                         check=True).stdout
    name, ins, rows = None, [], []

    def flush():
        worst = 0
        for first, last in innermost_loops(ins):
            body = [t for _, t in ins[first:last + 1]]
            stores = sum(1 for t in body if STACK_STORE.match(t))
            if stores >= 4 and sum(1 for t in body if MULTIPLY_ADD.match(t)) >= 4:
                worst = max(worst, stores)
        if worst:
            rows.append((worst, obj.split("/")[-1], name))

    for line in out.split("\n"):
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            if name:
                flush()
            name, ins = m.group(1), []
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
        if m:
            ins.append((int(m.group(1), 16), m.group(2)))
    if name:
        flush()
    return rows


def main(argv):
    if not argv:
        print(__doc__ or "usage: loop-spills.py OBJECT...", file=sys.stderr)
        return 2
    rows = []
    for obj in argv:
        rows.extend(scan(obj))
    for stores, obj, name in sorted(rows, reverse=True):
        short = re.sub(r"npw::|\(anonymous namespace\)::|skinny_blocked::", "", name)
        print(f"{stores:4d}  {obj}  {short[:140]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
