#!/usr/bin/env python3
"""npuwhisper-bench run as a user would (--json on the bundled model and clip, a few repetitions):
every key issue 5 names is present and numeric, figures are positive and consistent with each other,
and the steady state allocates nothing. No timing is judged here: speed lives in the benchmark."""
import json
import subprocess
import sys

bench, model, audio = sys.argv[1:4]
REQUIRED = ["sgemm_gflops", "copy_gbps", "mel_ms_per_30s", "mel_realtime", "encoder_ms", "encoder_gflops",
            "encoder_fraction_of_sgemm", "token_ms", "token_fraction_of_copy", "rtf", "peak_rss_mb",
            "allocs_per_window", "allocs_per_token"]

run = subprocess.run([bench, "--model", model, "--audio", audio, "--threads", "2", "--repeat", "2",
                      "--tokens", "4", "--context", "8", "--e2e-repeat", "1", "--json"],
                     capture_output=True, text=True, timeout=600)
if run.returncode != 0:
    sys.exit(f"npuwhisper-bench failed ({run.returncode}): {run.stderr}")
d = json.loads(run.stdout)
errors = []
for k in REQUIRED:
    if not isinstance(d.get(k), (int, float)):
        errors.append(f"{k}: missing or not a number ({d.get(k)!r})")
if not errors:
    for k in ["sgemm_gflops", "copy_gbps", "mel_ms_per_30s", "encoder_ms", "encoder_gflops", "token_ms", "rtf",
              "peak_rss_mb"]:
        if not d[k] > 0:
            errors.append(f"{k} = {d[k]} is not positive")
    if abs(d["encoder_fraction_of_sgemm"] - d["encoder_gflops"] / d["sgemm_gflops"]) > 1e-6 * d["encoder_gflops"]:
        errors.append("encoder_fraction_of_sgemm is not encoder_gflops / sgemm_gflops")
    if abs(d["mel_realtime"] * d["mel_ms_per_30s"] - 30000.0) > 1e-3 * 30000.0:
        errors.append("mel_realtime does not match mel_ms_per_30s")
    for k in ["allocs_per_window", "allocs_per_token"]:
        if d[k] != 0:
            errors.append(f"{k} = {d[k]}: the steady state allocates")
    # word timestamps: the extra decoder pass per window, next to a window's greedy decoding
    for k in ["word_timing_ms_per_window", "word_timing_decode_ms_per_window", "word_timing_fraction_of_decode"]:
        if not (isinstance(d.get(k), (int, float)) and d[k] > 0):
            errors.append(f"{k} missing or not positive")
    stages = d.get("encoder_stages_ms", {})
    for k in ["conv", "projections", "attention", "mlp", "norms"]:
        if not stages.get(k, 0) > 0:
            errors.append(f"encoder_stages_ms.{k} missing or not positive")
for bad in [["--model", model, "--dims", "tiny"], ["--dims", "nosuchsize"], ["--model", model, "--threads", "0"]]:
    r = subprocess.run([bench] + bad, capture_output=True, text=True, timeout=60)
    if r.returncode == 0 or "npuwhisper-bench:" not in r.stderr:
        errors.append(f"{' '.join(bad)}: expected a clear error, got rc {r.returncode}, stderr {r.stderr!r}")
# The emulated NPU (issue 11): its books and modelled times per window, and no device buffer
# allocated in the steady state.
DEVICE = ["device_launches_per_window", "device_bytes_to_device_per_window", "device_bytes_from_device_per_window",
          "device_buffers_allocated_per_window", "device_ms_per_window_npu1", "device_ms_per_window_npu2"]
run = subprocess.run([bench, "--model", model, "--threads", "2", "--repeat", "1", "--tokens", "2", "--context", "4",
                      "--e2e-repeat", "0", "--backend", "npu-emulator", "--json"], capture_output=True, text=True,
                     timeout=600)
if run.returncode != 0:
    errors.append(f"npuwhisper-bench --backend npu-emulator failed ({run.returncode}): {run.stderr}")
else:
    n = json.loads(run.stdout)
    for k in DEVICE:
        if not isinstance(n.get(k), (int, float)):
            errors.append(f"{k}: missing or not a number ({n.get(k)!r})")
    if not errors:
        for k in ["device_launches_per_window", "device_bytes_to_device_per_window",
                  "device_bytes_from_device_per_window", "device_ms_per_window_npu1", "device_ms_per_window_npu2"]:
            if not n[k] > 0:
                errors.append(f"{k} = {n[k]} is not positive")
        if n["device_buffers_allocated_per_window"] != 0:
            errors.append("device buffers allocated in the steady state")
        if n["allocs_per_window"] != 0:
            errors.append(f"allocs_per_window = {n['allocs_per_window']} on npu-emulator")
        if not n["backend"].startswith("npu-emulator"):
            errors.append(f"backend = {n['backend']}")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print("npuwhisper-bench --json: all keys present and consistent; 0 allocations per window and per token")
