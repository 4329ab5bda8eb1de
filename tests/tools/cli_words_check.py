# npuwhisper-cli's word timestamps as a user runs them. (1) The window-mode dump: for every golden
# words file in tests/data/manifest.json and both test models, --tokens <tokens_fed> --dump-words on
# the file's --offset window must give OpenAI's words: same text, tokens and start/end (1e-6 s),
# probabilities within 1e-3 relative. (2) --word-timestamps --json: every segment has words, ordered,
# not overlapping, inside the segment and the audio. (3) --words prints one line per word.
# (4) --srt/--vtt with --max-line-width/--max-line-count/--max-cue-duration: the cues obey the limits.
# (5) Misuse is refused with the flag named. Usage: cli_words_check.py CLI DATA_DIR
import json
import os
import re
import subprocess
import sys
import tempfile

cli, data = sys.argv[1], sys.argv[2]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run(args):
    p = subprocess.run([cli] + args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


manifest = json.load(open(os.path.join(data, "manifest.json")))
audio_of = {name: entry["file"] for name, entry in manifest["audio"].items()}
tmp = tempfile.mkdtemp(prefix="npw-words-")

# (1) the dump against the golden files
for entry in manifest["files"]:
    if entry.get("kind") != "word_timestamps":
        continue
    golden = json.load(open(os.path.join(data, entry["path"])))
    for model in ("ggml-test-f32.bin", "ggml-test-f16.bin"):
        out = os.path.join(tmp, "words.json")
        code, _, err = run(["--model", os.path.join(data, model), "--audio", os.path.join(data, audio_of[golden["audio"]]),
                            "--offset", str(golden["offset_frames"] / 100.0), "--threads", "2",
                            "--tokens", ",".join(str(t) for t in golden["tokens_fed"]), "--dump-words", out])
        where = "%s %s" % (entry["path"], model)
        if code != 0:
            fail("%s: exit %d: %s" % (where, code, err))
            continue
        got = json.load(open(out))["words"]
        want = golden["words"]
        if len(got) != len(want):
            fail("%s: %d words, want %d" % (where, len(got), len(want)))
            continue
        for i, (g, w) in enumerate(zip(got, want)):
            if g["word"] != w["word"] or g["tokens"] != w["tokens"]:
                fail("%s word %d: %r %r, want %r %r" % (where, i, g["word"], g["tokens"], w["word"], w["tokens"]))
            if abs(g["start"] - w["start"]) > 1e-6 or abs(g["end"] - w["end"]) > 1e-6:
                fail("%s word %d: %.6f-%.6f, want %.6f-%.6f" % (where, i, g["start"], g["end"], w["start"], w["end"]))
            if abs(g["probability"] - w["probability"]) > 1e-3 * w["probability"]:
                fail("%s word %d: probability %g, want %g" % (where, i, g["probability"], w["probability"]))

base = ["--model", os.path.join(data, "ggml-test-f32.bin"), "--audio", os.path.join(data, "audio", "jfk.wav"),
        "--beam-size", "0", "--no-fallback", "--threads", "2", "--word-timestamps"]

# (2) JSON words
code, out, err = run(base + ["--json"])
if code != 0:
    fail("--json: exit %d: %s" % (code, err))
else:
    doc = json.loads(out)
    floor, n_words = 0.0, 0
    for s in doc["segments"]:
        if "words" not in s:
            fail("segment %d has no words field" % s["id"])
            continue
        for w in s["words"]:
            n_words += 1
            if set(w) != {"word", "start", "end", "probability"}:
                fail("word fields %s" % sorted(w))
            if not (s["start"] - 1e-9 <= w["start"] <= w["end"] <= s["end"] + 1e-9 and w["start"] >= floor - 1e-9):
                fail("word %r %.3f-%.3f outside segment %.3f-%.3f or before %.3f" %
                     (w["word"], w["start"], w["end"], s["start"], s["end"], floor))
            if w["end"] > 11.0 + 1e-9:
                fail("word past the audio")
            floor = w["end"]
    if n_words == 0:
        fail("--json: no words")
    code2, plain, _ = run(base[:-1] + ["--json"])
    if code2 == 0 and any("words" in s for s in json.loads(plain)["segments"]):
        fail("words present without --word-timestamps")

# (3) one line per word
code, out, err = run(base + ["--words"])
lines = out.splitlines()
if code != 0 or not lines or not all(re.match(r"^\[\d\d:\d\d\.\d{3} --> \d\d:\d\d\.\d{3}\] \S", l) for l in lines):
    fail("--words: exit %d, lines %r %s" % (code, lines[:3], err))

# (4) subtitles shaped
def cue_seconds(stamp):
    h, m, s = stamp.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)

code, out, err = run(base + ["--srt", "--max-line-width", "20", "--max-line-count", "2", "--max-cue-duration", "2.5"])
if code != 0:
    fail("--srt: exit %d: %s" % (code, err))
else:
    blocks = [b for b in out.strip("\n").split("\n\n") if b]
    if not blocks:
        fail("--srt: no cues")
    for k, b in enumerate(blocks):
        rows = b.split("\n")
        m = re.match(r"^(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})$", rows[1]) if len(rows) > 2 else None
        if rows[0] != str(k + 1) or not m:
            fail("--srt: bad cue %r" % b)
            continue
        if cue_seconds(m.group(2)) - cue_seconds(m.group(1)) > 2.5 + 1e-3:
            fail("--srt: cue longer than 2.5 s: %r" % b)
        text = rows[2:]
        if len(text) > 2:
            fail("--srt: more than 2 lines: %r" % b)
        for t in text:
            # a single word longer than the width stands alone on its line, as in OpenAI's writer
            if len(t) > 20 and " " in t.strip():
                fail("--srt: line over 20 characters: %r" % t)
code, out, err = run(base + ["--vtt", "--max-words-per-line", "2"])
if code != 0 or not out.startswith("WEBVTT\n\n"):
    fail("--vtt: exit %d %r %s" % (code, out[:40], err))
else:
    for b in out.split("\n\n")[1:]:
        if b.strip() and len(b.split("\n")[1].split()) > 2:
            fail("--vtt: more than 2 words in %r" % b)

# (5) misuse
for args, needle in ((["--words"], "--word-timestamps"), (["--word-timestamps", "--max-line-width", "10"], "--srt"),
                     (["--word-timestamps", "--alignment-heads", "7:0"], "alignment heads '7:0'"),
                     (["--word-timestamps", "--srt", "--json"], "give one"),
                     (["--hallucination-silence-threshold", "2"], "--word-timestamps")):
    code, _, err = run(base[:-1] + args)
    if code != 1 or needle not in err:
        fail("%s: exit %d, stderr %r (wanted %r)" % (args, code, err, needle))
code, _, err = run(["--model", os.path.join(data, "ggml-test-f32.bin"), "--audio", os.path.join(data, "audio", "jfk.wav"),
                    "--tokens", "50257,25694,50256", "--dump-words", os.path.join(tmp, "x.json")])
if code != 1 or "notimestamps" not in err:
    fail("--dump-words without <|notimestamps|>: exit %d %r" % (code, err))

if failures:
    sys.exit("%d failure(s)" % len(failures))
print("ok")
