"""The production stack's figures (issue 23): image sizes; the offline build from nothing and
cached; `docker-compose up` to healthy; drop→receipt through SMB, one file at a time; the
stack's idle CPU with no files.

    .venv/bin/python bench/bench_compose.py [--from-nothing] [--idle-seconds 300]

--from-nothing builds into an empty package/wheel cache with the images removed first (as on a
new machine: every Debian package and wheel fetched again); the cached build follows at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fupin.wording import unit_name
from tests.compose_stack import ROOT, Stack, demo_files, engine, wait

IMAGES = ("fupin-airflow:local", "fupin/postgres:offline", "fupin/redis:offline", "fupin/samba:offline",
          "fupin/mailsink:offline")


def build(cache: Path | None = None) -> float:
    env = {**os.environ, **({"FUPIN_IMAGE_CACHE": str(cache)} if cache else {})}
    start = time.monotonic()
    subprocess.run(["bash", str(ROOT / "deploy" / "images" / "build.sh")], env=env, check=True, capture_output=True)
    return time.monotonic() - start


def sizes() -> dict[str, str]:
    out = {}
    for image in IMAGES:
        size = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", image], capture_output=True, text=True).stdout
        out[image] = f"{int(size) / 1e6:.0f} MB"
    return out


def cpu_seconds(stack: Stack) -> float:
    """CPU time used so far by every container of the stack (cgroup v1 or v2)."""
    total = 0.0
    for cid in stack.compose("ps", "-q").stdout.split():
        full = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", cid], capture_output=True, text=True).stdout.strip()
        for path in (f"/sys/fs/cgroup/cpu,cpuacct/docker/{full}/cpuacct.usage", f"/sys/fs/cgroup/cpuacct/docker/{full}/cpuacct.usage"):
            if os.path.exists(path):
                total += int(Path(path).read_text()) / 1e9
                break
        else:
            stat = Path(f"/sys/fs/cgroup/system.slice/docker-{full}.scope/cpu.stat")
            if stat.exists():
                total += int(stat.read_text().split()[1]) / 1e6
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from-nothing", action="store_true")
    parser.add_argument("--idle-seconds", type=int, default=300)
    args = parser.parse_args()
    engine()
    if args.from_nothing:
        subprocess.run(["docker", "rmi", "-f", *IMAGES, "fupin/airflow-base:offline", "fupin/airflow-runtime:3.11-bookworm",
                        "fupin/postgres:15-bookworm", "fupin/redis:7.0-bookworm", "fupin/samba-runtime:4.17-bookworm",
                        "fupin/mailsink-runtime:bookworm"], capture_output=True)
        with tempfile.TemporaryDirectory() as empty:
            print(f"offline build from nothing: {build(Path(empty)):.0f} s", flush=True)
    print(f"offline build, cached: {build():.0f} s", flush=True)
    for image, size in sizes().items():
        print(f"  {image}: {size}")
    with tempfile.TemporaryDirectory() as folder:
        stack = Stack(Path(folder))
        try:
            start = time.monotonic()
            stack.start()
            print(f"up to healthy: {time.monotonic() - start:.0f} s (compose up {stack.healthy():.0f} s of it waiting for health)",
                  flush=True)
            files = demo_files(Path(folder) / "gen", "2017-06:2017-06")
            latencies = []
            for unit, paths in sorted(files.items()):
                for path in paths:
                    count = len(stack.mails())
                    done = stack.smb(unit, unit_name(unit), f'cd 报送; put "{path}" "{path.name}"')
                    assert done.returncode == 0, done.stderr
                    put = time.time()
                    mail = wait(f"receipt of {path.name}", lambda n=path.name, c=count: next(
                        (m for m in stack.mails()[: len(stack.mails()) - c] if n in m["Subject"] and "回执" in m["Subject"]), None),
                        timeout=300, every=0.5)
                    latencies.append(dt.datetime.fromisoformat(mail["Created"]).timestamp() - put)
            print(f"drop→receipt through SMB, {len(latencies)} files one at a time: p50 {statistics.median(latencies):.1f} s, "
                  f"max {max(latencies):.1f} s ({', '.join(f'{x:.0f}' for x in latencies)})", flush=True)
            time.sleep(60)  # the reconciliation and its mail settle
            before, t0 = cpu_seconds(stack), time.monotonic()
            time.sleep(args.idle_seconds)
            used, elapsed = cpu_seconds(stack) - before, time.monotonic() - t0
            print(f"idle CPU over {elapsed:.0f} s with no files: {used:.1f} CPU s = {100 * used / elapsed:.1f}% of one core", flush=True)
        finally:
            stack.down()


if __name__ == "__main__":
    main()
