"""The SQLite journal's in-memory answers agree with what it holds on disk."""

from __future__ import annotations

from datetime import timedelta

from bot.model import Reporter
from bot.settings import SAMPLE_SITES
from bot.sites import load_registry
from bot.store.sqlite import SqliteJournal
from tests.support.samples import NOW, sample_report

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
