"""The SQLite journal's in-memory answers agree with what it holds on disk."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

from bot.errors import JournalError
from bot.model import Reporter
from bot.settings import SAMPLE_SITES
from bot.sites import load_registry
from bot.store.sqlite import SqliteJournal
from bot.supplies import RequestState
from tests.support.samples import NOW, sample_check_ins, sample_report, sample_requests

REPORTER = Reporter(user_id="29:staff", aad_object_id="aad-staff", name="佐藤 花子")


async def append(journal: SqliteJournal, submission_id: str, site, index: int, minutes: int):
    report = sample_report(site, index).report
    return await journal.append_report(
        submission_id, report, REPORTER, NOW + timedelta(minutes=minutes)
    )


async def test_latest_reports_follow_every_append_after_the_first_read(tmp_path):
    first, second = list(load_registry(SAMPLE_SITES))[:2]
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    try:
        await append(journal, "a", first, 1, 0)
        assert set(await journal.latest_reports()) == {first.id}

        newer = await append(journal, "b", first, 2, 1)
        other = await append(journal, "c", second, 3, 2)
        await append(journal, "b", first, 2, 3)  # a phone's retry: recorded once
        latest = await journal.latest_reports()
    finally:
        await journal.close()

    assert latest == {first.id: newer.record, second.id: other.record}
    reopened = SqliteJournal(tmp_path / "journal.sqlite3")
    try:
        assert await reopened.latest_reports() == latest
    finally:
        await reopened.close()


async def test_a_chosen_language_is_kept_across_a_restart(tmp_path):
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    try:
        assert await journal.language_of("29:staff") is None
        await journal.set_language("29:staff", "en")
        assert await journal.language_of("29:staff") == "en"
    finally:
        await journal.close()

    reopened = SqliteJournal(tmp_path / "journal.sqlite3")
    try:
        assert await reopened.language_of("29:staff") == "en"
    finally:
        await reopened.close()


async def test_submissions_arriving_together_share_commits_and_all_land(tmp_path):
    sites = list(load_registry(SAMPLE_SITES))
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    commits = []
    journal._db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    try:
        appended = await asyncio.gather(*(
            append(journal, f"s{n}", sites[n % len(sites)], n, n) for n in range(200)
        ))
        assert await journal.report_count() == 200
    finally:
        await journal.close()

    assert [a.duplicate for a in appended] == [False] * 200
    assert sorted(a.record.id for a in appended) == list(range(1, 201))
    # One commit for the first, then one for each group that queued meanwhile.
    assert len(commits) <= 10


async def test_a_failing_submission_leaves_the_rest_of_its_group_written(tmp_path, monkeypatch):
    sites = list(load_registry(SAMPLE_SITES))
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    enqueue = SqliteJournal._enqueue

    def failing_for_the_third_site(db, list_name, item_key, record, stamp):
        if record.report.site_id == sites[2].id:
            raise sqlite3.OperationalError("disk I/O error")
        enqueue(db, list_name, item_key, record, stamp)

    monkeypatch.setattr(SqliteJournal, "_enqueue", staticmethod(failing_for_the_third_site))
    try:
        outcomes = await asyncio.gather(
            *(append(journal, f"s{n}", sites[n], n, n) for n in range(5)),
            return_exceptions=True,
        )
        pending = await journal.outbox_pending(100)
        latest = await journal.latest_reports()
    finally:
        await journal.close()

    assert isinstance(outcomes[2], JournalError)
    assert all(not isinstance(outcome, Exception) for i, outcome in enumerate(outcomes) if i != 2)
    # The failed report left nothing behind, neither its row nor half of its outbox rows.
    assert set(latest) == {sites[n].id for n in (0, 1, 3, 4)}
    assert {e.item_key for e in pending if e.list_name == "sites"} == set(latest)
    assert len(pending) == 8


async def test_closing_waits_for_submissions_already_queued(tmp_path):
    site = list(load_registry(SAMPLE_SITES))[0]
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    writes = [asyncio.ensure_future(append(journal, f"s{n}", site, n, n)) for n in range(50)]
    await asyncio.sleep(0)  # every write is queued or out, none answered yet
    await journal.close()
    await asyncio.gather(*writes)

    reopened = SqliteJournal(tmp_path / "journal.sqlite3")
    try:
        assert await reopened.report_count() == 50
    finally:
        await reopened.close()


async def test_latest_check_ins_follow_every_append_after_the_first_read(tmp_path):
    first, second, third = (record.check_in for record in sample_check_ins(3))
    sato, suzuki = REPORTER, Reporter("29:suzuki", "aad-suzuki", "鈴木 一郎")
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    try:
        await journal.append_check_in("c1", first, sato, NOW, None)
        assert [r.submission_id for r in await journal.latest_check_ins()] == ["c1"]

        await journal.append_check_in("c2", second, suzuki, NOW, None)
        await journal.append_check_in("c3", third, sato, NOW, None)
        await journal.append_check_in("c2", second, suzuki, NOW, None)  # a retry
        latest = await journal.latest_check_ins()
    finally:
        await journal.close()

    assert [(r.submission_id, r.check_in) for r in latest] == [("c2", second), ("c3", third)]
    reopened = SqliteJournal(tmp_path / "journal.sqlite3")
    try:
        assert await reopened.latest_check_ins() == latest
    finally:
        await reopened.close()


async def test_open_requests_follow_every_request_and_move_after_the_first_read(tmp_path):
    sites = list(load_registry(SAMPLE_SITES))
    one, two, three = (record.request for record in sample_requests(sites, 3))
    hq = Reporter("29:hq", "aad-hq", "本部 中村")
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    try:
        first = (await journal.append_request("r1", one, REPORTER, NOW)).record
        assert [r.id for r in await journal.open_requests()] == [first.id]

        second = (await journal.append_request("r2", two, REPORTER, NOW)).record
        third = (await journal.append_request("r3", three, REPORTER, NOW)).record
        await journal.move_request(
            second.id, RequestState.APPROVED, hq, NOW, hq=True, event_key="approve-2"
        )
        await journal.move_request(
            first.id, RequestState.CANCELLED, hq, NOW, hq=True, event_key="cancel-1"
        )
        await journal.note_request(third.id, "15時着", hq, NOW, hq=True, event_key="note-3")
        still_open = await journal.open_requests()
    finally:
        await journal.close()

    assert [(r.id, r.state, r.note) for r in still_open] == [
        (second.id, RequestState.APPROVED, ""),
        (third.id, RequestState.REQUESTED, "15時着"),
    ]
    reopened = SqliteJournal(tmp_path / "journal.sqlite3")
    try:
        assert await reopened.open_requests() == still_open
    finally:
        await reopened.close()
