#!/usr/bin/env python3
"""npuwhisper-bench --live --json, briefly (10 s of scripted speech): every key issue 13 names is
present and numeric, the word counts are consistent, the commit policy alone (instant steps) commits
every scripted word exactly once with nothing wrong, also across a 3 s stall of the recogniser (seen
as a delay, caught up, nothing lost or reordered), and the voice gate lets no text out of 60 s of
silence or low noise. No timing is judged here: the figures live in the benchmark."""
import json
import subprocess
import sys

bench, model = sys.argv[1:3]
REQUIRED = ["commit_latency_median_s", "commit_latency_p95_s", "words_expected", "words_committed",
            "words_duplicated", "words_retracted", "max_emission_delay_s", "reported_latency_s",
            "silence_text_buffers", "noise_text_buffers", "silence_cpu_fraction"]

run = subprocess.run([bench, "--model", model, "--live", "--live-seconds", "10", "--threads", "1", "--json"],
                     capture_output=True, text=True, timeout=600)
if run.returncode != 0:
    sys.exit(f"npuwhisper-bench --live failed ({run.returncode}): {run.stderr}")
d = json.loads(run.stdout)
errors = [f"{k}: missing or not a number ({d.get(k)!r})" for k in REQUIRED if not isinstance(d.get(k), (int, float))]
if not errors:
    if d["words_committed"] + d["words_duplicated"] + d["words_retracted"] < 1:
        errors.append("nothing committed")
    if d["words_committed"] > d["words_expected"]:
        errors.append("more distinct words committed than scripted")
    if d["reported_latency_s"] <= 0:
        errors.append("reported latency is not positive")
    if d["silence_text_buffers"] != 0 or d["noise_text_buffers"] != 0:
        errors.append(f"text from silence ({d['silence_text_buffers']}) or noise ({d['noise_text_buffers']})")
    if d["policy_words_committed"] != d["policy_words_expected"] or d["policy_words_duplicated"] or \
            d["policy_words_retracted"]:
        errors.append("the policy alone did not commit every word exactly once: " +
                      json.dumps({k: v for k, v in d.items() if k.startswith("policy_")}))
    if d["policy_stall_words_committed"] != d["policy_stall_words_expected"] or \
            d["policy_stall_words_duplicated"] or d["policy_stall_words_retracted"] or \
            d["policy_stall_words_in_order"] is not True:
        errors.append("a 3 s stall lost, duplicated, invented or reordered words: " +
                      json.dumps({k: v for k, v in d.items() if k.startswith("policy_stall_")}))
    if d["policy_stall_max_delay_s"] < 3.0 or d["policy_stall_caught_up_s"] < 0:
        errors.append("the 3 s stall was not seen as a delay or never caught up: " +
                      json.dumps({k: v for k, v in d.items() if k.startswith("policy_stall_")}))
if errors:
    sys.exit("npuwhisper-bench --live JSON:\n  " + "\n  ".join(errors) + "\n" + run.stdout)
print(f"bench --live: {d['words_committed']}/{d['words_expected']} words, policy median "
      f"{d['policy_commit_latency_median_s']:.2f} s, reported latency {d['reported_latency_s']:.2f} s")
