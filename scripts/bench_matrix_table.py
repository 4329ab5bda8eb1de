#!/usr/bin/env python3
"""The table README.md's "Where it stands" quotes, from the files scripts/bench-matrix.sh leaves.

One row per model file and backend: the issue-14 figures and their ceilings as npuwhisper-bench
measured them in the same run, the int8 encoder's speed-up from the encoder-pair runs, and where
whisper.cpp's whisper-bench ran on the same file, its realistic window built from its own three
decoding figures as ours is (encoder + 224 prompt tokens + 100 steps of 5 beams). Peak RSS: the
bench's (two decoders and its own buffers) and npuwhisper-cli's on jfk.wav next to issue 14's target,
the model file + 20 % + the streams' buffers that the CLI's --memory-report names."""
import json
import os
import re
import sys

FILES = ["tiny-f16", "tiny-q8_0", "base-f16", "base-q8_0"]
BACKENDS = ["cpu", "cpu-int8"]


def median(v):
    return v["median"] if isinstance(v, dict) else v


def whisper_cpp_figures(path):
    """whisper.cpp's encoder and window in ms from its whisper-bench timings, or None if it did not run."""
    if not os.path.exists(path):
        return None
    text = open(path, encoding="utf-8", errors="replace").read()

    def per_run(name):
        m = re.search(name + r" time =\s+[\d.]+ ms /\s+\d+ runs \(\s+([\d.]+) ms per run", text)
        if not m:
            raise SystemExit(f"{path}: no '{name} time' line (not whisper-bench's output?)")
        return float(m.group(1))

    encoder = per_run("encode")
    return encoder, encoder + 224 * per_run("prompt") + 500 * per_run("batchd")


def cli_memory(path, file_mb):
    """npuwhisper-cli's peak RSS and issue 14's target for it, in MiB, or None if it did not run."""
    if not os.path.exists(path):
        return None
    text = open(path, encoding="utf-8", errors="replace").read()
    m = re.search(r"resident memory: ([\d.]+) MiB \(peak ([\d.]+) MiB\)", text)
    s = re.search(r"the streams' buffers ([\d.]+) MiB", text)
    if not m or not s:
        raise SystemExit(f"{path}: no memory report (did npuwhisper-cli fail?)")
    peak = max(float(m.group(1)), float(m.group(2)))
    return peak, 1.2 * file_mb + float(s.group(1))


def encoder_pair(path):
    """The bench's int8_encoder_speedup (median over the alternated pairs), or None if it did not run."""
    if not os.path.exists(path):
        return None
    return json.load(open(path)).get("int8_encoder_speedup")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench-matrix"
    rows = []
    machine = None
    for f in FILES:
        wc = whisper_cpp_figures(os.path.join(out, f"whisper-cpp-{f}.txt"))
        pair = encoder_pair(os.path.join(out, f"encoder-pair-{f}.json"))
        for b in BACKENDS:
            path = os.path.join(out, f"{f}-{b}.json")
            if not os.path.exists(path):
                continue
            r = json.load(open(path))
            machine = machine or r.get("machine")
            window = r["window_ms"]
            cli = cli_memory(os.path.join(out, f"cli-memory-{f}-{b}.txt"), r["model_file_mb"])
            rows.append([
                f.replace("-", " "), f"`{b}`",
                f"{r['encoder_ms']:.0f}" + (f" ({wc[0]:.0f})" if wc else ""),
                f"{r['token_steps_ms']:.2f}",
                f"{r['token_fraction_of_read']:.2f}",
                f"{r['batch5_step_ms']:.2f} ({median(r['batch5_over_token_paired']):.2f})",
                f"{r['prompt256_ms']:.3f} ({r['prompt_fraction_of_encoder_rate']:.2f})",
                f"{window:.0f}" + (f" ({wc[1]:.0f}: {wc[1] / window:.1f}x)" if wc else ""),
                f"{r['model_file_mb']:.1f} / {r['peak_rss_mb']:.0f}"
                + (f" / {cli[0]:.1f} ({cli[0] - cli[1]:+.1f})" if cli else ""),
                f"{pair:.2f}x" if (pair and b == "cpu-int8") else "",
                f"{r['fma_peak_gflops']:.0f} / {r['read_gbps']:.0f} / {r.get('int8_peak_gops', 0):.0f}",
            ])
    if machine:
        print(f"machine: {machine.get('cpu_model')}, {machine.get('nproc')} CPUs, {machine.get('blas_config')}")
        print()
    head = ["file", "backend", "encoder ms (whisper.cpp's)", "one-token step ms", "its bytes / read bandwidth",
            "5-beam step ms (over one-token)", "prompt ms a token (of encoder rate)",
            "window ms (whisper.cpp's: its over ours)", "file / peak RSS: bench / CLI on jfk.wav (over the target) MiB", "int8 encoder over f32",
            "FMA GFLOP/s / read GB/s / int8 GOP/s"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
