"""Province-scale generation: `fupin demo generate --scale K --months 2018-12`, time and peak RSS.

    .venv/bin/python bench/bench_generate.py [--scale 200] [--months 2018-12]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=200)
    ap.add_argument("--months", default="2018-12")
    args = ap.parse_args()
    fupin = str(Path(sys.executable).with_name("fupin"))
    with tempfile.TemporaryDirectory() as root:
        t = time.perf_counter()
        subprocess.run([fupin, "demo", "generate", "--data-root", root, "--scale", str(args.scale), "--months", args.months],
                       check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        files = [p for p in Path(root, "drops").rglob("*.csv")]
        size = sum(p.stat().st_size for p in files) / 1e6
        rows = sum(sum(1 for _ in open(p, encoding="utf-8")) - 1 for p in files if "registry" in p.name)
    print(f"scale {args.scale}, months {args.months}: {elapsed:.0f}s, peak RSS {peak:.0f} MB (target < 4096 MB)")
    print(f"{len(files)} files, {size:.0f} MB; registry rows: {rows:,}")


if __name__ == "__main__":
    main()
