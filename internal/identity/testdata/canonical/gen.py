"""Render each identity in inputs.json the way Launchplane does and write <name>.golden.

Launchplane renders LAUNCHPLANE_RUNTIME_IDENTITY_JSON with
json.dumps(obj, sort_keys=True, separators=(",", ":")) and the default ensure_ascii
(cbusillo/launchplane control_plane/contracts/runtime_identity.py). The Go test compares its own
rendering with these files, and re-runs this script when python3 is on PATH.

Usage: python3 gen.py [--stdout]
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "inputs.json"), encoding="utf-8") as f:
    cases = json.load(f)

out = {}
for case in cases:
    out[case["name"]] = json.dumps(case["identity"], sort_keys=True, separators=(",", ":"))

if "--stdout" in sys.argv:
    json.dump(out, sys.stdout, sort_keys=True)
else:
    for name, text in out.items():
        with open(os.path.join(here, name + ".golden"), "w", encoding="ascii", newline="") as f:
            f.write(text)
