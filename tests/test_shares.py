"""Each unit's shared folder: its 报送 taken, its 回执 and 退回 given, named for its clerk; and
Samba's configuration of one share per unit (the SMB service itself: tests/test_compose.py)."""

from __future__ import annotations

import configparser
import copy
import datetime as dt
import stat

import pytest

from fupin import shares, wording
from fupin.config import units
from fupin.ingest import inbox
from fupin.ingest.pipeline import ingest_claimed
from fupin.notify.outbox import send_pending
from tests.helpers import drops, rows, sheet, write


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_an_accepted_drop_leaves_its_receipt_in_the_units_own_share(sqlite_warehouse, data_root, people):
    write(drops(data_root, "hrss") / "人社局_2017年6月.xlsx", sheet("employment", rows("employment", people)))
    (claimed,) = inbox.claim_new()
    receipt = ingest_claimed(claimed)
    assert receipt.status == "accepted"
    share = data_root / "shares" / "hrss"
    (name,) = _files(share / "回执")
    received = dt.datetime.fromisoformat(receipt.received_at).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert name == f"{received:%Y%m%d-%H%M%S}_人社局_2017年6月.xlsx_{receipt.drop_id[-8:]}_回执.txt"  # Beijing time
    raw = (share / "回执" / name).read_bytes()
    # Notepad on the clerk's Windows: UTF-8 with its mark, CRLF line ends
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert receipt.drop_id in raw.decode("utf-8-sig") and "已通过，数据已入库" in raw.decode("utf-8-sig")
    assert stat.S_IMODE((share / "回执" / name).stat().st_mode) == 0o640
    assert _files(share / "退回") == [] and _files(share / "报送") == []
    # no other unit's share holds anything
    others = [p for p in (data_root / "shares").rglob("*") if p.is_file() and not p.is_relative_to(share)]
    assert others == []


def test_a_refused_drop_comes_back_in_退回_with_its_receipt_and_marked_copy(sqlite_warehouse, data_root, people):
    bad = copy.deepcopy(rows("dibao", people))
    for r in bad:
        r["status"] = "不详"
    original = write(drops(data_root, "civil_affairs") / "民政局_2017年6月.xlsx", sheet("dibao", bad)).read_bytes()
    (claimed,) = inbox.claim_new()
    receipt = ingest_claimed(claimed)
    assert receipt.status == "rejected"
    back = data_root / "shares" / "civil_affairs" / "退回"
    names = _files(back)
    assert sorted(n.rsplit("_", 1)[-1] for n in names) == ["原文件.xlsx", "回执.txt", "标注.xlsx"]
    assert (back / next(n for n in names if n.endswith("原文件.xlsx"))).read_bytes() == original
    assert all(stat.S_IMODE((back / n).stat().st_mode) == 0o640 for n in names)
    assert len(_files(data_root / "shares" / "civil_affairs" / "回执")) == 1
    # finishing the same drop again (a crash after the copies, before the claim was let go)
    # replaces its own copies: nothing doubled
    from fupin.ingest.pipeline import _deliver

    _deliver(claimed, receipt, receipt.text(), data_root)
    assert _files(back) == names


def test_the_share_folders_let_the_file_service_write_only_where_units_drop(data_root):
    share = data_root / "shares" / "water"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in share.iterdir()}
    assert modes == {"报送": 0o770, "核查结果": 0o770, "回执": 0o750, "退回": 0o750}
    town = next(iter(inbox.verifying_units()[::-1]))
    assert sorted(p.name for p in (data_root / "shares" / town).iterdir()) == ["回执", "核查结果", "退回"]  # a town reports no file
    assert stat.S_IMODE((data_root / "shares").stat().st_mode) == 0o750


def test_smb_conf_gives_each_unit_one_share_of_its_own(data_root):
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.read_string(shares.smb_conf(inbox.share_units(), data_root))
    sections = {name: dict(parser[name]) for name in parser.sections()}
    glob = sections.pop("global")
    assert glob["map to guest"] == "never" and glob["restrict anonymous"] == "2" and glob["wide links"] == "no"
    assert glob["server min protocol"] == "SMB2_10" and glob["create mask"] == "0640"
    ops = sections.pop("运维")
    assert ops["valid users"] == "engineers" and ops["read only"] == "yes"
    assert set(sections) == {units()[u].name for u in inbox.share_units()}
    assert "县水务局" in sections and "丹霞街道" in sections
    for u in inbox.share_units():
        s = sections[units()[u].name]
        assert s["path"] == str(data_root / "shares" / u)
        assert s["valid users"].split() == [shares.account(u), "engineers"]
    assert shares.account("water") == "water" and shares.account("440224001") == "unit_440224001"
    accounts = [line.split()[0] for line in shares.accounts(inbox.share_units()).splitlines()]
    assert len(accounts) == len(set(accounts)) == len(inbox.share_units()) + 1


def test_two_units_that_would_share_a_name_or_an_account_are_refused(monkeypatch):
    from fupin.config import Unit

    same = {"water": Unit("water", "县水务局", ("a@x",), ()), "Water": Unit("Water", "县水利局", ("b@x",), ())}
    monkeypatch.setattr(wording, "units", lambda: same)
    with pytest.raises(ValueError, match="账号相同"):
        shares.share_units_listing(["water", "Water"])
    same["Water"] = Unit("Water", "县水务局", ("b@x",), ())
    with pytest.raises(ValueError, match="共享名相同"):
        shares.share_units_listing(["water", "Water"])


def test_a_share_name_cannot_inject_samba_settings(monkeypatch):
    from fupin.config import Unit

    monkeypatch.setattr(wording, "units", lambda: {"water": Unit("water", "县水务局]\n[global]\npath = /", ("a@x",), ())})
    conf = shares.smb_conf(["water"], shares.Path("/data"))
    assert conf.count("[global]") == 1 and "path = /\n" not in conf


def test_reminders_name_the_folder_as_the_clerk_sees_it(sqlite_warehouse, mailbox, data_root):
    from fupin.notify.reminders import remind

    assert "water" in remind(dt.date(2017, 7, 10))
    send_pending()
    (mail,) = [m for m in mailbox.messages if m["Subject"].startswith("【催报】县水务局")]
    body = mail.get_body(("plain",)).get_content()
    assert "\\\\fupin\\县水务局\\报送" in body and "inbox/" not in body
