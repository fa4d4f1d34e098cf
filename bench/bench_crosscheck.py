"""The province-wide cross-check at province scale: 120 counties, each with its own warehouse.

    .venv/bin/python bench/bench_crosscheck.py [--counties 120] [--scale 200] [--runs 3] [--per-rule 100]

Step 1 (cached in bench/out/province_<K>/): the demo county at `--scale` (200 ≈ 2.07 M registry and
1.48 M dibao persons, `bench_reconcile`'s frames) split into K counties by the copy of the demo
county each household comes from, each county with its own code (the ID numbers' region code and
the household numbers rewritten to it, check digits recomputed), `--per-rule` planted cases of
R7, R8 and R9 each (a registered person also on another county's registry; on another county's
dibao in force; on another county's registry or dibao under an ID one digit off), every county's
registry and dibao of the month loaded into its own SQLite warehouse, a province warehouse, and
the counties file.
Step 2: `crosscheck_month` end to end — read every county's two snapshots, R7–R9, store — each
run in a fresh process (its peak RSS its own); the time is the median.
Step 3: the findings against the planted cases and against a brute-force check of the rules'
definitions in plain Python (the generated data hold no cross-county cases of their own, but
the check does not assume so).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE / "out"


def county_codes(k: int) -> list[str]:
    return [f"44{1 + i // 90:02d}{10 + i % 90:02d}" for i in range(k)]  # 441010 … : distinct six-digit codes


def _regioned(pid: str, code: str) -> str:
    from fupin.ids import check_digit

    body = code + pid[6:17]
    return body + check_digit(body)


def _one_off(pid: str, taken: set[str]) -> str:
    from fupin.ids import check_digit

    for step in range(1, 10):
        body = pid[:16] + str((int(pid[16]) + step) % 10)
        other = body + check_digit(body)
        if other not in taken:
            return other
    raise RuntimeError(pid)


def build(k: int, scale: int, month: str, per_rule: int, folder: Path) -> dict:
    """The K counties' frames with the planted cases, and the planted cases."""
    import pandas as pd
    from bench_reconcile import make_frames

    with open(make_frames(scale, month), "rb") as fh:
        frames = pickle.load(fh)
    codes = county_codes(k)
    reg, dib = frames["registry"].copy(), frames["dibao"].copy()
    reg["county"] = [codes[int(h[6:9]) * k // scale] for h in reg["household_id"]]
    dib["county"] = [codes[int(c[2:5]) % scale * k // scale] for c in dib["dibao_card_no"]]  # DB/DO<copy>…; a planted DT card anywhere
    for f in (reg, dib):
        f["id_number"] = [_regioned(p, c) for p, c in zip(f["id_number"], f["county"], strict=True)]
    reg["household_id"] = [c + h[6:] for h, c in zip(reg["household_id"], reg["county"], strict=True)]
    taken = set(reg["id_number"]) | set(dib["id_number"])
    rng = random.Random(15)
    planted: dict[str, list] = {"R7": [], "R8": [], "R9": []}
    extra_reg, extra_dib = [], []
    movers = reg.sample(n=3 * per_rule, random_state=15)
    for i, person in enumerate(movers.itertuples(index=False)):
        other = rng.choice([c for c in codes if c != person.county])
        rule = ("R7", "R8", "R9")[i % 3]
        if rule == "R7":
            host = reg[reg["county"] == other].iloc[0]
            extra_reg.append({**host.to_dict(), "id_number": person.id_number, "name": person.name, "relation": "之子"})
            planted["R7"].append(sorted([(person.id_number, person.county), (person.id_number, other)]))
        elif rule == "R8":
            host = dib[dib["county"] == other].iloc[0]
            extra_dib.append({**host.to_dict(), "id_number": person.id_number, "name": person.name, "status": "在保", "relation": "配偶"})
            planted["R8"].append([person.id_number, person.county, other])
        else:
            twin = _one_off(person.id_number, taken)
            taken.add(twin)
            host = dib[dib["county"] == other].iloc[0]
            extra_dib.append({**host.to_dict(), "id_number": twin, "name": person.name, "relation": "配偶"})
            planted["R9"].append(sorted([(person.id_number, person.county), (twin, other)]))
    reg = pd.concat([reg, pd.DataFrame(extra_reg)], ignore_index=True)
    dib = pd.concat([dib, pd.DataFrame(extra_dib)], ignore_index=True)
    return {"codes": codes, "registry": reg, "dibao": dib, "planted": planted}


def load(k: int, scale: int, month: str, per_rule: int) -> Path:
    """The counties file of a province of K counties, each county's warehouse loaded (cached)."""
    import datetime as dt

    import yaml

    from fupin.warehouse import db
    from fupin.warehouse import load as loader

    folder = OUT / f"province_{k}_s{scale}_{month}"
    listing = folder / "counties.yaml"
    if listing.exists():
        return listing
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    built = build(k, scale, month, per_rule, folder)
    rec = loader.FileRecord("0" * 64, "bench", "x", "bench", month, "csv", 0, "-", dt.datetime.now())
    counties = []
    for code in built["codes"]:
        root = folder / code
        root.mkdir(exist_ok=True)
        url = f"sqlite:///{root / 'warehouse.sqlite'}"
        db.upgrade(url)
        with db.engine(url).begin() as conn:
            for dataset in ("registry", "dibao"):
                f = built[dataset]
                f = f[f["county"] == code].drop(columns=["county"])
                loader.replace_month(conn, dataset, "bench", month, f.assign(sheet="bench", row_no=range(len(f))), rec)
        db.engine(url).dispose()
        counties.append({"code": code, "name": f"县{code}", "data_root": str(root), "warehouse_url": url})
    province = {"code": "440000", "name": "广东省", "data_root": str(folder / "province"),
                "warehouse_url": f"sqlite:///{folder / 'province.sqlite'}"}
    db.upgrade(province["warehouse_url"])
    (folder / "planted.json").write_text(json.dumps(built["planted"]))
    listing.write_text(yaml.safe_dump({"province": province, "counties": counties}, allow_unicode=True))
    print(f"built {k} counties ({len(built['registry']):,} registry, {len(built['dibao']):,} dibao rows) in {time.perf_counter() - t:.0f}s")
    return listing


def run_once(listing: str, month: str) -> None:
    """One cross-check end to end, in this (fresh) process; prints a JSON line."""
    os.environ["FUPIN_COUNTIES"] = listing  # the bench's own process: what a worker's environment holds
    from fupin.county import counties, province
    from fupin.reconcile.crosscheck import crosscheck_month

    listed, prov = counties(), province()
    t = time.perf_counter()
    summary = crosscheck_month(month, listed, prov)
    elapsed = time.perf_counter() - t
    print(json.dumps({"seconds": elapsed, "counts": summary.counts,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def brute_force(read: dict, one_digit_apart) -> dict[str, set]:
    """R7–R9 by their definitions, over every person of every county, in plain Python."""
    where_reg, where_dib, by_name_birth = {}, {}, {}
    for code, (_, reg, dib) in read.items():
        for table, where, registered in ((reg, where_reg, True), (dib, where_dib, False)):
            cols = table.to_pydict()
            statuses = cols.get("status", [None] * table.num_rows)
            for pid, name, status in zip(cols["id_number"], cols["name"], statuses, strict=True):
                if registered or status == "在保":
                    where.setdefault(pid, set()).add(code)
                group = by_name_birth.setdefault((name, pid[6:14]), {})
                group[(pid, code)] = group.get((pid, code), False) or registered
    brute = {"R7": set(), "R8": set(), "R9": set()}
    for pid, places in where_reg.items():
        brute["R7"] |= {tuple(sorted([(pid, a), (pid, b)])) for a in places for b in places if a < b}
        brute["R8"] |= {(pid, a, b) for a in places for b in where_dib.get(pid, ()) if a != b}
    for group in by_name_birth.values():
        people = list(group.items())
        for i, ((p, c), reg_p) in enumerate(people):
            brute["R9"] |= {tuple(sorted([(p, c), (q, d)])) for (q, d), reg_q in people[i + 1:]
                            if c != d and (reg_p or reg_q) and one_digit_apart(p, q)}
    return brute


def check(listing: Path, month: str) -> None:
    """The stored findings against the planted cases and a brute-force reading of R7–R9."""
    os.environ["FUPIN_COUNTIES"] = str(listing)
    from fupin import queries
    from fupin.county import counties, province
    from fupin.reconcile.crosscheck import read_counties
    from fupin.reconcile.rules import one_digit_apart
    from fupin.warehouse import db

    with province().active(), db.engine().connect() as conn:
        found = queries.crosscheck_findings_of(conn, month)
    got = {r: set() for r in ("R7", "R8", "R9")}
    for f in found:
        if f["rule"] == "R8":
            got["R8"].add((f["person_id"], f["county"], f["other_county"]))
        else:
            got[f["rule"]].add(tuple(sorted([(f["person_id"], f["county"]), (f["other_id"], f["other_county"])])))
    planted = json.loads((listing.parent / "planted.json").read_text())
    want = {"R7": {tuple(map(tuple, p)) for p in planted["R7"]}, "R8": {tuple(p) for p in planted["R8"]},
            "R9": {tuple(map(tuple, p)) for p in planted["R9"]}}
    brute = brute_force(read_counties(counties(), month), one_digit_apart)
    for rule in ("R7", "R8", "R9"):
        print(f"{rule}: found {len(got[rule])}, planted {len(want[rule])}, planted found {len(want[rule] & got[rule])}, "
              f"brute force {len(brute[rule])}, found == brute force: {got[rule] == brute[rule]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counties", type=int, default=120)
    ap.add_argument("--scale", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--per-rule", type=int, default=100)
    ap.add_argument("--month", default="2018-06")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        run_once(args.one, args.month)
        return
    listing = load(args.counties, args.scale, args.month, args.per_rule)
    runs = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, __file__, "--one", str(listing), "--month", args.month], check=True,
                             capture_output=True, text=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    secs = [r["seconds"] for r in runs]
    print(f"{args.counties} counties, scale {args.scale}, month {args.month}: cross-check end to end median "
          f"{statistics.median(secs):.2f}s {[round(s, 2) for s in secs]} (target <= 20 s), peak RSS "
          f"{max(r['peak_rss_mb'] for r in runs):,.0f} MB; findings {runs[0]['counts']}")
    check(listing, args.month)


if __name__ == "__main__":
    main()
