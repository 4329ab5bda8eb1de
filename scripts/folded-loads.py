#!/usr/bin/env python3
# Lists the functions of object files in which GCC folded one memory operand into several nearby
# multiply-adds: each such FMA loads it again. In the skinny products at 5 rows that was 12 loads per
# 10 FMAs and halved a Zen 3's rate (util/in_register.h is the cure). Broadcasts folded into several
# AVX-512 FMAs ({1to16}) are counted too: each is a load as well. A count is a lead, not a verdict:
# a loop bound by memory or by something else loses nothing to it, and operands on the stack are
# often constants spilled there (the exp polynomials' in the AVX2 attention).
#
#   scripts/folded-loads.py build-release/runtime/libnpw_runtime.a.p/*.o [--top N]
import collections
import re
import subprocess
import sys

FMA = re.compile(r"\s+[0-9a-f]+:\s+(v\w*fn?madd\w*|vmulps|vaddps|vdpbf16ps|\{vex\} vpdpbusd\w*|vpdpbusd\w*|vpmaddwd|vpmaddubsw)"
                 r"\s+([^,]*\([^)]*\)(?:\{1to\d+\})?),")
WINDOW = 12  # instructions: a loop body's neighbourhood


def main(argv):
    top = 10
    files = []
    it = iter(argv)
    for a in it:
        if a == "--top":
            top = int(next(it))
        else:
            files.append(a)
    rows = []
    for obj in files:
        out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", obj], capture_output=True, text=True).stdout
        func, recent, hits = None, [], collections.Counter()
        for line in out.splitlines():
            m = re.match(r"^[0-9a-f]+ <(.*)>:", line)
            if m:
                func, recent = m.group(1), []
                continue
            m = FMA.match(line)
            if m and "%rip" not in m.group(2):  # constants (exp polynomials): one line, always in L1
                if m.group(2) in recent:
                    hits[func] += 1
                recent = (recent + [m.group(2)])[-WINDOW:]
            elif re.match(r"\s+[0-9a-f]+:\s+j", line):
                recent = []  # a branch: the next block may not follow this one
        rows += [(n, obj, f) for f, n in hits.items()]
    for n, obj, f in sorted(rows, reverse=True)[:top]:
        print(f"{n:5d}  {obj.rsplit('/', 1)[-1]}  {f[:120]}")


if __name__ == "__main__":
    main(sys.argv[1:])
