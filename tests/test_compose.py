"""The production stack for real: the offline images (`make images`), `docker-compose up`, the
demo's June 2017 dropped through each unit's SMB share, receipts and reconciliation mailed,
the assessment run with `docker-compose exec`, /fupin behind the login, a worker restarted
mid-ingest and the whole stack taken down and up again — nothing lost, no mail sent twice.

It never skips: without a container engine it fails and says how to install one. Everything
it makes (containers, volumes, networks) is removed; the images stay, as `make images` left
them. The containers publish only on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from fupin.wording import unit_name
from tests.compose_stack import ROOT, Stack, demo_files, engine, wait

pytestmark = [pytest.mark.slow, pytest.mark.compose]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    engine()
    built = subprocess.run(["bash", str(ROOT / "deploy" / "images" / "build.sh")], capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-3000:]
    s = Stack(tmp_path_factory.mktemp("compose"))
    if shutil.which("iptables") is None:
        pytest.fail("iptables not found (Debian's iptables, which docker.io brings): the stack's network cannot be fenced")
    try:
        s.start()
        s.up_seconds = s.healthy()
        yield s
        assert s.leaks() == 0, "a container tried to reach an address outside the stack's network"
    finally:
        s.down()
        left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={s.name}"],
                              capture_output=True, text=True).stdout.split()
        volumes = subprocess.run(["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={s.name}"],
                                 capture_output=True, text=True).stdout.split()
        networks = subprocess.run(["docker", "network", "ls", "-q", "--filter", f"label=com.docker.compose.project={s.name}"],
                                  capture_output=True, text=True).stdout.split()
        assert left == volumes == networks == [], (left, volumes, networks)


def test_each_share_is_its_units_own(stack):
    """A clerk sees their unit's folders; another unit's share, the engineers' view and an
    anonymous login are refused; nothing leads out of a share."""
    listing = stack.smb("water", "县水务局", "ls")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    for folder in ("报送", "核查结果", "回执", "退回"):
        assert folder in listing.stdout
    assert "archive" not in listing.stdout and "quarantine" not in listing.stdout
    other = stack.smb("water", "县卫计局", "ls")
    assert other.returncode != 0 and "NT_STATUS_ACCESS_DENIED" in other.stdout + other.stderr
    ops = stack.smb("water", "运维", "ls")
    assert ops.returncode != 0 and "NT_STATUS_ACCESS_DENIED" in ops.stdout + ops.stderr
    anonymous = stack.smb(None, "县水务局", "ls")
    assert anonymous.returncode != 0 and "NT_STATUS_" in anonymous.stdout + anonymous.stderr
    escape = stack.smb("water", "县水务局", "cd ../../archive; ls")
    assert "NT_STATUS_" in escape.stdout + escape.stderr and ".xlsx" not in escape.stdout
    # a clerk cannot forge a receipt: 回执 is the platform's to write
    forged = stack.smb("water", "县水务局", "cd 回执; put /etc/hostname 假回执.txt")
    assert "NT_STATUS_ACCESS_DENIED" in forged.stdout + forged.stderr
    engineers = stack.smb(None, "县卫计局", "ls", account="engineers")
    assert engineers.returncode == 0 and "报送" in engineers.stdout


def test_june_through_the_shares_to_receipts_reconciliation_and_assessment(stack, tmp_path):
    files = demo_files(tmp_path / "gen", "2017-06:2017-06")
    put_at: dict[str, float] = {}
    slow_one = files["health"][0]
    for unit, paths in files.items():
        share = unit_name(unit)
        for path in paths:
            if path == slow_one:
                continue
            done = stack.smb(unit, share, f'cd 报送; put "{path}" "{path.name}"')
            assert done.returncode == 0, done.stdout + done.stderr
            put_at[path.name] = time.time()
    # a file written slowly, in chunks, through a pipe: taken only once whole
    fifo = tmp_path / "slow.fifo"
    os.mkfifo(fifo)
    data = slow_one.read_bytes()

    def feed():
        with open(fifo, "wb") as out:
            for i in range(0, len(data), max(1, len(data) // 6)):
                out.write(data[i:i + max(1, len(data) // 6)])
                out.flush()
                time.sleep(2.5)

    writer = threading.Thread(target=feed)
    writer.start()
    slow = stack.smb("health", "县卫计局", f'cd 报送; put "{fifo}" "{slow_one.name}"')
    writer.join()
    assert slow.returncode == 0, slow.stdout + slow.stderr
    put_at[slow_one.name] = time.time()

    def receipts():
        found = {m["Subject"]: m for m in stack.mails() if "回执" in m["Subject"]}
        return found if len(found) >= len(put_at) else None

    got = wait("a receipt for every file dropped", receipts, timeout=240)
    for name in put_at:
        assert any(name in subject for subject in got), name
    slow_receipt = next(m for s, m in got.items() if slow_one.name in s)
    assert "已通过" in slow_receipt["Subject"] or "通过" in slow_receipt["Subject"], slow_receipt["Subject"]
    stack.latencies = [dt.datetime.fromisoformat(m["Created"]).timestamp() - put_at[n]
                       for n in put_at for s, m in got.items() if n in s]
    # the clerk's receipt is in the unit's own 回执, named for them
    back = stack.smb("water", "县水务局", "cd 回执; ls")
    assert "_回执.txt" in back.stdout
    wait("the reconciliation mailed", lambda: [m for m in stack.mails() if "比对" in m["Subject"]], timeout=300)

    # an engineer's look at the half year, in the containers; then the DAG's run, which mails it
    assessed = stack.compose("exec", "-T", "airflow-worker", "fupin", "assess", "--period", "2017H1", "--as-of", "2017-06-30",
                             timeout=600)
    assert "通报 县水务局" in assessed.stdout, assessed.stdout[-2000:]
    stack.compose("exec", "-T", "airflow-worker", "airflow", "dags", "trigger", "assessment", "-c",
                  '{"period": "2017H1", "as_of": "2017-06-30"}', timeout=300)
    wait("the assessment mailed", lambda: [m for m in stack.mails() if m["Subject"].startswith("【考核通报】")], timeout=300)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_fupin_answers_only_behind_the_login(stack):
    base = f"http://127.0.0.1:{stack.ports['api']}"
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as page:
        opener.open(f"{base}/fupin/", timeout=30)
    assert page.value.code == 303 and page.value.headers["Location"].startswith("/auth/login")
    with pytest.raises(urllib.error.HTTPError) as data:
        opener.open(f"{base}/fupin/api/submissions", timeout=30)
    assert data.value.code == 401
    passwords = json.loads(stack.compose("exec", "-T", "airflow-apiserver", "cat",
                                         "/opt/airflow/simple_auth_manager_passwords.json.generated").stdout)
    req = urllib.request.Request(f"{base}/auth/token", data=json.dumps({"username": "admin", "password": passwords["admin"]}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        token = json.load(r)["access_token"]
    with opener.open(urllib.request.Request(f"{base}/fupin/", headers={"Authorization": f"Bearer {token}"}), timeout=30) as r:
        assert r.status == 200 and "扶贫数据" in r.read().decode()


def test_a_worker_restarted_mid_ingest_and_the_stack_restarted_lose_nothing_and_send_nothing_twice(stack, tmp_path):
    files = demo_files(tmp_path / "gen", "2017-07:2017-07")
    before = len(stack.mails())
    names = []
    for unit, paths in files.items():
        for path in paths:
            assert stack.smb(unit, unit_name(unit), f'cd 报送; put "{path}" "{path.name}"').returncode == 0
            names.append(path.name)
    time.sleep(8)  # the files settle and the ingest starts
    stack.compose("restart", "airflow-worker", timeout=300)
    stack.compose("down", timeout=300)  # containers and network; the volumes stay
    stack.unfence()
    stack.start()  # its new network fenced again
    stack.healthy()

    def all_receipts():
        subjects = [m["Subject"] for m in stack.mails()[: len(stack.mails()) - before]]
        return all(any(n in s for s in subjects) for n in names) or None

    wait("every July file's receipt after the restarts", all_receipts, timeout=480)
    time.sleep(20)  # anything that would go twice has had time to
    ids = [m["MessageID"] for m in stack.mails()]
    subjects = [m["Subject"] for m in stack.mails() if "回执" in m["Subject"]]
    assert len(ids) == len(set(ids))
    assert len(subjects) == len(set(subjects)), [s for s in subjects if subjects.count(s) > 1]
