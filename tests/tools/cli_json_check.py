# Reads npuwhisper-cli --json output on stdin, checks that it is one JSON object with every documented
# field of the right type, and prints the segments in the CLI's text format, one per line, so the
# test can compare them with the text output of the same run. Exit 1 with a message on any problem.
import json
import sys

doc = json.load(sys.stdin)
for key, kind in (("model", str), ("audio", str), ("language", str), ("segments", list)):
    if not isinstance(doc.get(key), kind):
        sys.exit("field %s missing or not %s" % (key, kind.__name__))
fields = {"id": int, "start": (int, float), "end": (int, float), "text": str, "tokens": list, "token_probs": list,
          "avg_logprob": (int, float), "compression_ratio": (int, float), "no_speech_prob": (int, float),
          "temperature": (int, float)}


def stamp(seconds):
    ms = int(round(seconds * 1000.0))
    return "%02d:%02d.%03d" % (ms // 60000, ms // 1000 % 60, ms % 1000)


for i, seg in enumerate(doc["segments"]):
    for key, kind in fields.items():
        if not isinstance(seg.get(key), kind):
            sys.exit("segment %d: field %s missing or wrong type" % (i, key))
    if seg["id"] != i or len(seg["tokens"]) != len(seg["token_probs"]) or not seg["tokens"]:
        sys.exit("segment %d: bad id or token arrays" % i)
    if not all(isinstance(t, int) for t in seg["tokens"]) or not all(0 <= p <= 1 for p in seg["token_probs"]):
        sys.exit("segment %d: bad token or probability values" % i)
    print("[%s --> %s] %s" % (stamp(seg["start"]), stamp(seg["end"]), seg["text"].strip().replace("\n", " ")))
