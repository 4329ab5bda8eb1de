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
            "allocs_per_window", "allocs_per_token",
            # issue 14: whisper.cpp's decoding figures, the realistic window, the machine's own peaks, memory
            "token_steps_ms", "batch5_step_ms", "prompt256_ms", "window_ms", "window_realtime", "fma_peak_gflops",
            "read_gbps", "token_fraction_of_read", "encoder_fraction_of_fma_peak", "model_file_mb",
            "int8_peak_gops", "batch5_over_token", "prompt_fraction_of_encoder_rate", "rss_after_load_mb",
            "rss_after_window_mb", "allocs_per_batch5_step", "allocs_per_prompt256", "allocs_per_decoding_window"]

run = subprocess.run([bench, "--model", model, "--audio", audio, "--threads", "2", "--repeat", "2",
                      "--tokens", "4", "--context", "8", "--e2e-repeat", "1", "--json"],
                     capture_output=True, text=True, timeout=600)
if run.returncode != 0:
    sys.exit(f"npuwhisper-bench failed ({run.returncode}): {run.stderr}")
d = json.loads(run.stdout)
errors = []
if d.get("decoder_cross_attention") not in ("int8", "f16", "f32"):
    errors.append(f"decoder_cross_attention is not int8, f16 or f32 ({d.get('decoder_cross_attention')!r})")
for k in REQUIRED:
    if not isinstance(d.get(k), (int, float)):
        errors.append(f"{k}: missing or not a number ({d.get(k)!r})")
if not errors:
    for k in ["sgemm_gflops", "copy_gbps", "mel_ms_per_30s", "encoder_ms", "encoder_gflops", "token_ms", "rtf",
              "peak_rss_mb", "token_steps_ms", "batch5_step_ms", "prompt256_ms", "window_ms", "window_realtime",
              "fma_peak_gflops", "read_gbps", "int8_peak_gops", "token_fraction_of_read",
              "encoder_fraction_of_fma_peak", "model_file_mb", "rss_after_load_mb"]:
        if not d[k] > 0:
            errors.append(f"{k} = {d[k]} is not positive")
    if abs(d["encoder_fraction_of_sgemm"] - d["encoder_gflops"] / d["sgemm_gflops"]) > 1e-6 * d["encoder_gflops"]:
        errors.append("encoder_fraction_of_sgemm is not encoder_gflops / sgemm_gflops")
    if abs(d["mel_realtime"] * d["mel_ms_per_30s"] - 30000.0) > 1e-3 * 30000.0:
        errors.append("mel_realtime does not match mel_ms_per_30s")
    if abs(d["window_realtime"] * d["window_ms"] - 30000.0) > 1e-3 * 30000.0:
        errors.append("window_realtime does not match window_ms")
    if abs(d["encoder_fraction_of_fma_peak"] * d["fma_peak_gflops"] - d["encoder_gflops"]) > 1e-4 * d["encoder_gflops"]:
        errors.append("encoder_fraction_of_fma_peak is not encoder_gflops / fma_peak_gflops")
    if abs(d["batch5_over_token"] * d["token_steps_ms"] - d["batch5_step_ms"]) > 1e-4 * d["batch5_step_ms"]:
        errors.append("batch5_over_token is not batch5_step_ms / token_steps_ms")
    paired = d.get("batch5_over_token_paired", {})
    if not all(isinstance(paired.get(k), (int, float)) and paired[k] > 0 for k in ("median", "min", "max")):
        errors.append(f"batch5_over_token_paired: not a summary of positive ratios ({paired!r})")
    elif not paired["min"] <= paired["median"] <= paired["max"]:
        errors.append(f"batch5_over_token_paired: median outside its range ({paired!r})")
    # The model file is bundled: its size is known exactly.
    import os
    if abs(d["model_file_mb"] - os.path.getsize(model) / 2**20) > 0.01:
        errors.append(f"model_file_mb = {d['model_file_mb']} is not the size of {model}")
    if not d["peak_rss_mb"] >= d["rss_after_load_mb"]:
        errors.append("peak_rss_mb is below the RSS after load")
    # The split of the RSS after a window: every label a MiB figure; the runtime's big buffers are
    # there under their own names, and buffers + mappings add up to the process's resident memory.
    by_buffer = d.get("rss_after_window_by_buffer_mb", {})
    by_mapping = d.get("rss_after_window_by_mapping_mb", {})
    for k in ["packed weights", "decoder: cross-attention keys", "decoder: cross-attention values",
              "encoder: activations"]:
        if not (isinstance(by_buffer.get(k), (int, float)) and by_buffer[k] > 0):
            errors.append(f"rss_after_window_by_buffer_mb has no resident '{k}'")
    if not by_mapping.get("shared libraries", 0) > 0:
        errors.append("rss_after_window_by_mapping_mb has no shared libraries")
    split = sum(by_buffer.values()) + sum(by_mapping.values())
    if abs(split - d["rss_after_window_mb"]) > 0.05 * d["rss_after_window_mb"] + 2:
        errors.append(f"the RSS split adds up to {split:.1f} MiB, not rss_after_window_mb = {d['rss_after_window_mb']}")
    for k in ["allocs_per_window", "allocs_per_token", "allocs_per_batch5_step", "allocs_per_prompt256",
              "allocs_per_decoding_window"]:
        if d[k] != 0:
            errors.append(f"{k} = {d[k]}: the steady state allocates")
    # word timestamps: the extra decoder pass per window, next to a window's greedy decoding
    for k in ["word_timing_ms_per_window", "word_timing_decode_ms_per_window", "word_timing_fraction_of_decode",
              "word_timing_fraction_of_beam5_decode"]:
        if not (isinstance(d.get(k), (int, float)) and d[k] > 0):
            errors.append(f"{k} missing or not positive")
    # ... and over a realistic window's text, against that window's decoding
    if d.get("word_timing_window_text_tokens") != 100:
        errors.append("word_timing_window_text_tokens is not the realistic window's 100 steps")
    if not (isinstance(d.get("word_timing_window_ms"), (int, float)) and d["word_timing_window_ms"] > 0):
        errors.append("word_timing_window_ms missing or not positive")
    elif abs(d["word_timing_fraction_of_window_decode"] * d["window_decoder_ms"] - d["word_timing_window_ms"]) > \
            1e-4 * d["word_timing_window_ms"]:
        errors.append("word_timing_fraction_of_window_decode is not word_timing_window_ms / window_decoder_ms")
    # ... and its parts, each no longer than the whole (medians over the same repetitions)
    wt = d.get("word_timing", {})
    for k in ["forward_ms", "token_probs_ms", "heads_dtw_ms"]:
        part = wt.get(k, {}).get("max")
        if not (isinstance(part, (int, float)) and 0 < part <= wt.get("align_ms", {}).get("max", 0) * 1.001):
            errors.append(f"word_timing.{k} missing, not positive or above the whole alignment")
    stages = d.get("encoder_stages_ms", {})
    for k in ["conv", "projections", "attention", "mlp", "norms"]:
        if not stages.get(k, 0) > 0:
            errors.append(f"encoder_stages_ms.{k} missing or not positive")


def single_stage(flag, repeat, positive, not_run):
    """Runs the bench with one stage flag; its JSON if it ran and has the positive keys, else None."""
    r = subprocess.run([bench, "--model", model, "--threads", "2", "--repeat", str(repeat), flag, "--json"],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        errors.append(f"{flag} failed ({r.returncode}): {r.stderr}")
        return None
    out = json.loads(r.stdout)
    for k in positive:
        if not (isinstance(out.get(k), (int, float)) and out[k] > 0):
            errors.append(f"{flag}: {k} missing or not positive")
    if not_run in out:
        errors.append(f"{flag} ran the other stages too")
    return out


# --word-timing-only: the word keys alone, as JSON.
single_stage("--word-timing-only", 2,
             ["word_timing_ms_per_window", "word_timing_fraction_of_decode", "word_timing_fraction_of_beam5_decode"],
             "encoder_ms")
# --encoder-pair: the f32 and int8 encoders alternating, their times and the ratio per pair.
e = single_stage("--encoder-pair", 3, ["encoder_f32_ms", "encoder_int8_ms", "int8_encoder_speedup"], "token_steps_ms")
if e is not None:
    spread = e.get("int8_encoder_speedup_spread", {})
    if spread.get("n") != 3 or not spread.get("min", 0) <= e.get("int8_encoder_speedup", -1) <= spread.get("max", 0):
        errors.append(f"--encoder-pair: the ratio's spread does not hold its median over 3 pairs: {spread}")
    if not (isinstance(e.get("int8_kernel"), str) and isinstance(e.get("int8_bf16_attention"), bool)):
        errors.append("--encoder-pair: int8_kernel / int8_bf16_attention missing")
    if e.get("int8_attention_scores") not in ("int8", "bf16", "f32"):
        errors.append("--encoder-pair: int8_attention_scores is not int8, bf16 or f32")
    if e.get("int8_attention_values") not in ("int8", "bf16", "f32"):
        errors.append("--encoder-pair: int8_attention_values is not int8, bf16 or f32")
for bad in [["--model", model, "--dims", "tiny"], ["--dims", "nosuchsize"], ["--model", model, "--threads", "0"],
            ["--model", model, "--live", "--word-timing-only"], ["--model", model, "--encoder-pair", "--live"],
            ["--model", model, "--encoder-pair", "--backend", "cpu"]]:
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
