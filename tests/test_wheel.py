"""The package as the image installs it: a wheel, non-editable. Everything it reads at run time
(the notice templates, the migrations) must ship inside it — the suite's editable install
would hide a missing one, since it reads the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from tests.conftest import ROOT
from tests.helpers import rows, sheet, write

pytestmark = pytest.mark.slow  # each test here starts processes or replays months

PROBE = """
import sys
from pathlib import Path
import fupin
from fupin.notify import outbox
from fupin.warehouse import db
where = Path(fupin.__file__).resolve()
assert str(where).startswith(sys.prefix), where  # the installed copy, not the source tree
names = sorted(p.name for p in outbox.TEMPLATES.glob("*.j2"))
for name in names:
    outbox._jinja().get_template(name)  # every template parses from the package
print(" ".join(names))
print(len(list((db.MIGRATIONS / "versions").glob("*.py"))))
# the dashboard's pages and their script and styles come from the package too
from fupin.dashboard import app as dashboard
print(" ".join(sorted(p.name for p in (dashboard.HERE / "templates").glob("*.html"))))
print(" ".join(sorted(p.name for p in (dashboard.HERE / "static").iterdir())))
"""


@pytest.mark.slow
def test_the_installed_wheel_carries_its_templates_and_migrations(tmp_path, people):
    pip = [sys.executable, "-m", "pip"]
    # from the tracked files only, as a clean clone or the image's build context has them: the
    # egg-info an editable install leaves in include/ lists every file and would hide a gap
    src = tmp_path / "src"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("fupin-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # the lock's packages from the suite's venv, but not its editable fupin (a path .pth there
    # is not processed from here), so `import fupin` can only find the wheel's copy
    site = next((venv / "lib").glob("python3.*/site-packages"))
    (site / "_lock.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = venv / "bin" / "python"
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True,
                   capture_output=True)
    # config/, reference/, expectations/ are the deployment's (the image copies them to FUPIN_HOME)
    probe = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, cwd=tmp_path,
                           env={**os.environ, "FUPIN_HOME": str(ROOT)})
    assert probe.returncode == 0, probe.stderr[-3000:]
    templates, migrations, pages, static = probe.stdout.split("\n")[:4]
    dash = ROOT / "include/fupin/dashboard"
    assert pages.split() == sorted(p.name for p in (dash / "templates").glob("*.html"))
    assert static.split() == sorted(p.name for p in (dash / "static").iterdir())
    assert templates.split() == sorted(p.name for p in (ROOT / "include/fupin/notify/templates").glob("*.j2"))
    assert int(migrations) == len(list((ROOT / "include/fupin/warehouse/migrations/versions").glob("*.py")))
    # and it works: migrate a warehouse, ingest a file, queue its receipt (rendered from the package)
    root = tmp_path / "data"
    env = {**os.environ, "FUPIN_HOME": str(ROOT), "FUPIN_DATA_ROOT": str(root), "FUPIN_STABLE_SECONDS": "0"}
    env.pop("FUPIN_WAREHOUSE_URL", None)
    fupin = [str(python), "-m", "fupin.cli"]
    subprocess.run([*fupin, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=tmp_path)
    subprocess.run([*fupin, "inbox"], env=env, capture_output=True, cwd=tmp_path)  # lays out the folders
    write(root / "shares" / "hrss" / "报送" / "人社局_2017年6月.xlsx", sheet("employment", rows("employment", people)))
    done = subprocess.run([*fupin, "inbox", "--json"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"status": "accepted"' in done.stdout
    out = subprocess.run([*fupin, "outbox", "--all"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert "pending  receipt/" in out.stdout and "报送回执" in out.stdout
    # production code only: no demo county, no local cluster or mail sink, and none of their
    # packages among its requirements; asked for the demo, it says where the demo lives
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert not [n for n in names if n.startswith(("fupin/demo/", "fupin/ops/"))]
    required = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in required if "extra ==" not in r]
    assert "apache-airflow" in core and not [r for r in core if r.split()[0] in ("aiosmtpd", "xlwt", "pytest", "selenium")]
    demo = subprocess.run([*fupin, "demo", "run"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert demo.returncode != 0 and "make demo" in demo.stderr and "Traceback" not in demo.stderr
