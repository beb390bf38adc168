"""Every card the bot can send, rendered with realistic sample data in both languages.

The schema test and the JavaScript renderer test both walk `sample_cards()`; a new
template needs its samples here, and `test_every_template_has_samples` says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.board import compute_board
from bot.cards import create_help_card, create_welcome_card
from bot.cards.alert import (
    HelpAlert,
    RequestAlert,
    SiteAlert,
    create_alert_card,
    create_alert_group_card,
    create_help_alert_card,
)
from bot.cards.board import create_board_card
from bot.cards.request import (
    create_request_card,
    create_request_list_card,
    create_request_view_card,
)
from bot.cards.checkin import (
    create_checkin_card,
    create_checkin_saved_card,
    create_checkin_view_card,
)
from bot.cards.reminder import create_reminder_card
from bot.cards.report import (
    create_report_card,
    create_report_pick_card,
    create_report_saved_card,
    create_report_view_card,
)
from bot.critical import Change, ChangeKind
from bot.model import (
    LIFELINES,
    SUPPLIES,
    Lifeline,
    RecordedReport,
    Reporter,
    ShelterReport,
    ShelterStatus,
    Site,
    SupplyLevel,
)
from bot.settings import SAMPLE_SITES
from bot.sites import load_registry
from bot.supplies import (
    Priority,
    RecordedRequest,
    RequestEvent,
    RequestState,
    SupplyRequest,
)
from bot.staff import (
    Availability,
    CheckIn,
    RecordedCheckIn,
    Safety,
    Whereabouts,
    tally,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 9, 1, 6, 30, tzinfo=timezone.utc)


def burst_alerts(registry, helpless: RecordedCheckIn, count: int) -> list:
    """Return `count` alerts from a burst: a person asking for help and critical sites."""
    changes = (
        (Change(ChangeKind.FULL),),
        (Change(ChangeKind.SUPPLY_OUT, "water"), Change(ChangeKind.LIFELINE_DOWN, "power")),
        (Change(ChangeKind.SUPPLY_OUT, "medicine"),),
    )
    shelters = registry.shelters()
    alerts = [HelpAlert(helpless)]
    for n in range(count - 1):
        site = shelters[n % len(shelters)]
        alerts.append(SiteAlert(site, changes[n % len(changes)], sample_report(site, n)))
    return alerts


def sample_report(site: Site, index: int, **changes) -> RecordedReport:
    capacity = site.capacity or 300
    evacuees = (index * 37) % capacity
    fields = dict(
        site_id=site.id,
        status=ShelterStatus.OPEN,
        evacuees=evacuees,
        households=evacuees // 3,
        care_needed=evacuees // 10,
        capacity=None,
        lifelines={name: Lifeline.OK for name in LIFELINES},
        supplies={name: SupplyLevel.OK for name in SUPPLIES},
        needs="",
    )
    fields.update(changes)
    return RecordedReport(
        id=index + 1,
        submission_id=f"sample-{index}",
        report=ShelterReport(**fields),
        reporter=Reporter("29:sample", "aad-sample", "山田 太郎"),
        received_at=NOW - timedelta(minutes=15 * index),
    )


STAFF_NAMES = ("佐藤 花子", "鈴木 一郎", "高橋 美咲", "田中 健", "伊藤 さくら", "渡辺 翔")


def sample_check_ins(count: int = 120) -> list[RecordedCheckIn]:
    """Return the latest check-ins of `count` people: most safe, a few needing help."""
    records = []
    for index in range(count):
        safety = Safety.SAFE
        if index % 23 == 5:
            safety = Safety.NEED_HELP
        elif index % 9 == 4:
            safety = Safety.INJURED
        availability = list(Availability)[index % 3]
        check_in = CheckIn(
            safety=safety,
            whereabouts=list(Whereabouts)[index % len(Whereabouts)],
            availability=availability,
            arrival="10:30" if availability is Availability.LATER else "",
            note="自宅が半壊し、足を負傷。自力で移動できません。" if safety is Safety.NEED_HELP else "",
        )
        name = f"{STAFF_NAMES[index % len(STAFF_NAMES)]} {index}"
        records.append(
            RecordedCheckIn(
                id=index + 1,
                submission_id=f"checkin-{index}",
                check_in=check_in,
                reporter=Reporter(f"29:staff-{index}", f"aad-staff-{index}", name),
                received_at=NOW - timedelta(minutes=index),
            )
        )
    return records


def sample_requests(sites: list[Site], count: int = 12) -> list[RecordedRequest]:
    """Return open supply requests from the first sites, in every open state."""
    states = (RequestState.REQUESTED, RequestState.APPROVED, RequestState.DISPATCHED)
    requester = Reporter("29:sample", "aad-sample", "山田 太郎")
    return [
        RecordedRequest(
            id=index + 1,
            submission_id=f"request-{index}",
            request=SupplyRequest(
                site_id=sites[index % 5].id,
                items="毛布 100枚\n飲料水（2リットル）200本\n紙おむつ（中）5パック",
                priority=Priority.URGENT if index % 4 == 0 else Priority.NORMAL,
            ),
            requester=requester,
            requested_at=NOW - timedelta(minutes=40 - index),
            state=states[index % 3],
            updated_at=NOW - timedelta(minutes=10),
            updated_by="本部 物資班 中村",
            note="トラック2台で15時着の予定" if index % 3 == 2 else "",
        )
        for index in range(count)
    ]


def sample_board(site_count: int | None = None):
    registry = load_registry(SAMPLE_SITES)
    sites = list(registry)
    if site_count is not None:
        sites = [
            Site(
                id=f"G{i:04d}",
                name_ja=f"浜風市立第{i}小学校 体育館",
                name_en=f"Hamakaze Municipal Elementary School No. {i} Gymnasium",
                capacity=200 + i,
            )
            for i in range(site_count)
        ]
    latest = {}
    for index, site in enumerate(sites):
        if index % 5 == 4:
            continue
        changes = {}
        if index % 7 == 0:
            changes["supplies"] = {**{n: SupplyLevel.OK for n in SUPPLIES}, "water": SupplyLevel.OUT}
            changes["needs"] = "飲料水 500本、毛布 100枚を至急"
        if index % 11 == 0:
            changes["status"] = ShelterStatus.FULL
        latest[site.id] = sample_report(site, index, **changes)
    return compute_board(
        sites,
        latest,
        NOW,
        timedelta(hours=3),
        attendance=tally(sample_check_ins()),
        open_requests=sample_requests(sites),
    )


def sample_cards() -> dict[str, dict]:
    """Return sample cards by "<template>/<case>/<lang>"."""
    registry = load_registry(SAMPLE_SITES)
    site = registry.shelters()[0]
    last = sample_report(site, 3, needs="おむつが不足しています")
    check_ins = sample_check_ins(30)
    helpless = next(r for r in check_ins if r.check_in.safety is Safety.NEED_HELP)
    requests = sample_requests(list(registry))
    dispatched = requests[2]
    history = [
        RequestEvent(2, RequestState.REQUESTED, dispatched.requester, NOW, "", "teams"),
        RequestEvent(
            2, RequestState.DISPATCHED, Reporter("29:hq", "aad-hq", "中村"), NOW, "15時着", "lists"
        ),
    ]
    sites_by_id = {s.id: s for s in registry}
    new_requests = [
        RequestAlert(r, sites_by_id.get(r.request.site_id))
        for r in sample_requests(list(registry), 30)
    ]
    cards = {}
    for lang in ("ja", "en"):
        board = sample_board()
        cards.update(
            {
                f"help/plain/{lang}": create_help_card(lang),
                f"welcome/plain/{lang}": create_welcome_card(lang),
                f"report_pick/all/{lang}": create_report_pick_card(lang, registry.shelters()),
                f"report_pick/600-sites/{lang}": create_report_pick_card(
                    lang, [row.site for row in sample_board(600).rows]
                ),
                f"report_pick/notice/{lang}": create_report_pick_card(
                    lang, registry.search("小学校"), selected=site.id, notice="「小学校」"
                ),
                f"report/first/{lang}": create_report_card(
                    lang, site, "sub-1", zone=TOKYO, now=NOW
                ),
                f"report/prefilled/{lang}": create_report_card(
                    lang, site, "sub-2", values=last.report.to_fields(), last=last, zone=TOKYO, now=NOW
                ),
                f"report/rejected/{lang}": create_report_card(
                    lang,
                    site,
                    "sub-3",
                    values={**last.report.to_fields(), "evacuees": "abc", "households": "999"},
                    errors={
                        "evacuees": "error_not_number",
                        "households": "error_households_exceed",
                        "supply_water": "error_choice",
                        "site_id": "error_unknown_site",
                    },
                    last=last,
                    zone=TOKYO,
                    now=NOW,
                ),
                f"report_saved/plain/{lang}": create_report_saved_card(
                    lang, site, last, zone=TOKYO
                ),
                f"board/sample/{lang}": create_board_card(lang, board, zone=TOKYO),
                f"board/hq-names/{lang}": create_board_card(lang, board, zone=TOKYO, names=True),
                f"board/empty/{lang}": create_board_card(
                    lang, compute_board(registry, {}, NOW, timedelta(hours=3)), zone=TOKYO
                ),
                f"board/large-page-2/{lang}": create_board_card(
                    lang, sample_board(600), zone=TOKYO, page=2
                ),
                f"board/live-60-viewers/{lang}": create_board_card(
                    lang,
                    sample_board(600),
                    zone=TOKYO,
                    refresh_users=[f"29:{i:036d}" for i in range(80)],
                    live=True,
                ),
                f"alert/grouped/{lang}": create_alert_card(
                    lang,
                    site,
                    [
                        Change(ChangeKind.FULL),
                        Change(ChangeKind.LIFELINE_DOWN, "power"),
                        Change(ChangeKind.SUPPLY_OUT, "water"),
                        Change(ChangeKind.SUPPLY_OUT, "toilets"),
                    ],
                    last,
                    zone=TOKYO,
                ),
                f"reminder/plain/{lang}": create_reminder_card(
                    lang, site, last, silent_for=timedelta(hours=3, minutes=10), zone=TOKYO
                ),
                f"report_view/newer/{lang}": create_report_view_card(
                    lang, site, last, zone=TOKYO, newer=sample_report(site, 1)
                ),
                f"report_view/missing/{lang}": create_report_view_card(
                    lang, None, None, zone=TOKYO
                ),
                f"checkin/first/{lang}": create_checkin_card(
                    lang, "checkin-sub-1", zone=TOKYO, now=NOW
                ),
                f"checkin/rejected/{lang}": create_checkin_card(
                    lang,
                    "checkin-sub-2",
                    values={**helpless.check_in.to_fields(), "arrival": "25:99", "note": ""},
                    errors={"arrival": "error_time", "note": "error_need_help_note"},
                    last=check_ins[0],
                    zone=TOKYO,
                    now=NOW,
                ),
                f"checkin_saved/safe/{lang}": create_checkin_saved_card(
                    lang, check_ins[1], zone=TOKYO
                ),
                f"checkin_saved/need-help/{lang}": create_checkin_saved_card(
                    lang, helpless, zone=TOKYO
                ),
                f"checkin_view/newer/{lang}": create_checkin_view_card(
                    lang, helpless, zone=TOKYO, newer=check_ins[0]
                ),
                f"checkin_view/missing/{lang}": create_checkin_view_card(lang, None, zone=TOKYO),
                f"alert/need-help/{lang}": create_help_alert_card(lang, helpless, zone=TOKYO),
                f"alert_group/sites-and-help/{lang}": create_alert_group_card(
                    lang, burst_alerts(registry, helpless, 4), zone=TOKYO
                ),
                f"alert_group/more-than-listed/{lang}": create_alert_group_card(
                    lang, burst_alerts(registry, helpless, 40), zone=TOKYO
                ),
                f"alert_group/with-requests/{lang}": create_alert_group_card(
                    lang, burst_alerts(registry, helpless, 3) + new_requests[:5], zone=TOKYO
                ),
                f"alert_group/requests-more-than-listed/{lang}": create_alert_group_card(
                    lang, burst_alerts(registry, helpless, 12) + new_requests, zone=TOKYO
                ),
                f"request/first/{lang}": create_request_card(
                    lang, registry.shelters(), "request-sub-1", values={"site_id": site.id}
                ),
                f"request/rejected/{lang}": create_request_card(
                    lang,
                    registry.shelters(),
                    "request-sub-2",
                    values={"site_id": "", "items": "", "priority": "urgent"},
                    errors={"site_id": "error_required", "items": "error_items_required"},
                ),
                f"request_view/hq-new/{lang}": create_request_view_card(
                    lang,
                    requests[0],
                    site,
                    zone=TOKYO,
                    hq=True,
                    events=history[:1],
                    refresh_users=["29:hq"],
                ),
                f"request_view/requester-dispatched/{lang}": create_request_view_card(
                    lang, dispatched, site, zone=TOKYO, hq=False, events=history, notice="#2"
                ),
                f"request_view/missing/{lang}": create_request_view_card(
                    lang, None, None, zone=TOKYO, hq=False
                ),
                f"request_list/open/{lang}": create_request_list_card(
                    lang, sample_requests(list(registry), 30), sites_by_id, zone=TOKYO
                ),
                f"request_list/empty/{lang}": create_request_list_card(
                    lang, [], sites_by_id, zone=TOKYO
                ),
            }
        )
    return cards
