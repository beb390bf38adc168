"""What the simulated people send: submission kinds, text commands, and the users themselves.

A submission kind is one function registered with `@submission_kind`. It gets a random
generator, the user, the site, a fresh submission id and the valid data this kind last
sent for that site (None the first time), and returns the card verb and the card data
Teams would send for it; with `invalid` set it makes one mistake a person (or an old
card) really makes. The registration says how often the kind is sent, how to tell an
accepted answer from a rejected one and where the journal records the submission, so
the load generator and the journal check need nothing else. The kinds are shelter
reports, staff check-ins and supply requests; acknowledgements will join here as one
function more.

HQ then works through the supply requests: the last section reads the buttons on a
request's card and picks the one an HQ member presses next.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from bench.registry import SiteRow

LIFELINES = ("power", "water", "gas", "telecom")
SUPPLIES = ("water", "food", "blankets", "medicine", "toilets", "formula", "diapers", "sanitary")

Builder = Callable[[random.Random, "User", SiteRow, str, bool, dict | None], tuple[str, dict]]


@dataclass(frozen=True)
class SubmissionKind:
    """A kind of card submission and how to check it end to end.

    Attributes:
        form_verbs: verbs of the cards that ask for this submission; an answer that
            still offers one of them is a rejection (the form back with errors).
        journal_table, journal_key: where the journal records each accepted submission
            id, for the "journal rows equal accepted submissions" check.
        weight: how often the kind is picked against the others the load sends. The
            registered kinds' weights add up to 100, so by default each is a percentage.
    """

    name: str
    build: Builder
    form_verbs: frozenset[str]
    journal_table: str
    journal_key: str = "submission_id"
    weight: float = 1.0


KINDS: dict[str, SubmissionKind] = {}


def submission_kind(name: str, *, form_verbs: tuple[str, ...], journal_table: str,
                    weight: float, journal_key: str = "submission_id"
                    ) -> Callable[[Builder], Builder]:
    """Register a submission builder under `name`, picked at odds `weight`."""
    def register(build: Builder) -> Builder:
        KINDS[name] = SubmissionKind(name, build, frozenset(form_verbs), journal_table,
                                     journal_key, weight)
        return build
    return register


@dataclass(frozen=True)
class User:
    """A simulated Teams user in a personal chat with the bot."""

    number: int
    name: str
    lang: str
    home: SiteRow

    @property
    def id(self) -> str:
        return f"29:staff-{self.number:05d}"

    @property
    def conversation_id(self) -> str:
        return f"a:personal-staff-{self.number:05d}"

    @property
    def locale(self) -> str:
        return "ja-jp" if self.lang == "ja" else "en-US"

    def account(self) -> dict:
        return {"id": self.id, "name": self.name, "aadObjectId": f"aad-staff-{self.number:05d}"}


SURNAMES = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
            "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水")
GIVEN = ("花子", "太郎", "健太", "美咲", "翔太", "陽子", "大輔", "由美", "直樹", "恵")
ENGLISH = ("Alex Smith", "Maria Garcia", "Chen Wei", "Nguyen Thi Lan", "Priya Nair")


def make_users(count: int, sites: list[SiteRow], seed: int = 0, first: int = 1) -> list[User]:
    """Return `count` users, nine in ten Japanese-speaking, each assigned a home site."""
    rng = random.Random(seed)
    users = []
    for number in range(first, first + count):
        if rng.random() < 0.9:
            name, lang = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}", "ja"
        else:
            name, lang = rng.choice(ENGLISH), "en"
        users.append(User(number, name, lang, sites[(number - first) % len(sites)]))
    return users


# Text commands typed to the bot, with a weight each; "{site}" becomes a site name.
COMMANDS = (
    ("報告", 3), ("ボード", 2), ("board", 1), ("report {site}", 2), ("安否", 2), ("checkin", 1),
    ("ヘルプ", 1), ("help", 1),
)


def command_text(rng: random.Random, user: User) -> str:
    text = rng.choices([c for c, _ in COMMANDS], [w for _, w in COMMANDS])[0]
    return text.format(site=user.home.name_en if user.lang == "en" else user.home.name_ja)


# --- shelter reports ---------------------------------------------------------------------

NEEDS_JA = ("毛布 30枚", "粉ミルクと哺乳瓶", "車いす用トイレ", "発電機の燃料", "常備薬（高血圧）",
            "ブルーシート 20枚", "飲料水 2L×200本", "簡易トイレの追加", "通訳（英語・ベトナム語）")
NEEDS_EN = ("Blankets x30", "Baby formula", "Generator fuel", "Interpreter (Vietnamese)")
LIFELINE_ODDS = {"power": (4, 2, 4), "water": (5, 2, 3), "gas": (4, 1, 5), "telecom": (5, 3, 2)}
SHELTER_MISTAKES = (
    "households_exceed", "negative_care", "not_a_number", "unknown_site", "missing_evacuees",
    "zero_capacity", "unknown_choice", "needs_too_long",
)


# How a site's state moves between two of its reports, a few minutes apart: each supply
# and lifeline changes at these odds, mostly one step; evacuees drift by a few percent of
# capacity. A site's first report is drawn afresh. With these odds about one report in
# fourteen crosses a critical threshold (a supply out, a lifeline down, the shelter
# full); drawing every report afresh, as the benchmark did before, crossed five in six.
SUPPLY_CHANGE = 0.04
LIFELINE_CHANGE = 0.03
STATUS_NEXT = {
    "preparing": (("open", 30), ("preparing", 70)),
    "open": (("open", 985), ("full", 10), ("closed", 5)),
    "full": (("full", 90), ("open", 10)),
    "closed": (("closed", 97), ("open", 3)),
}


# An earthquake morning: reports and check-ins come about equally often; supply
# requests, a site's considered ask of HQ, are six submissions in a hundred.
@submission_kind("shelter_report", form_verbs=("report_save", "report_pick"),
                 journal_table="reports", weight=47)
def shelter_report(rng: random.Random, user: User, site: SiteRow, submission_id: str,
                   invalid: bool, previous: dict | None) -> tuple[str, dict]:
    """A shelter status report in the first hour after an earthquake.

    A site's next report changes its previous one a little, as a shelter's state does.
    """
    capacity = site.capacity or 300
    data = _shelter_next(rng, capacity, previous) if previous else _shelter_first(rng, capacity)
    evacuees = int(data["evacuees"])
    data.update(site_id=site.id, submission_id=submission_id, lang=user.lang)
    if previous is None or rng.random() < 0.2:
        data["needs"] = rng.choice(NEEDS_JA if user.lang == "ja" else NEEDS_EN) \
            if rng.random() < 0.3 else ""

    if invalid:
        _make_mistake(rng.choice(SHELTER_MISTAKES), data, evacuees)
    return "report_save", data


def _shelter_first(rng: random.Random, capacity: int) -> dict:
    status = rng.choices(("open", "preparing", "full", "closed"), (75, 10, 10, 5))[0]
    data = {"status": status, "capacity": str(capacity) if rng.random() < 0.9 else ""}
    _set_evacuees(rng, data, capacity, _evacuees_for(rng, status, capacity),
                  rng.uniform(2.0, 3.0), rng.uniform(0.03, 0.12))
    for name in LIFELINES:
        data[f"lifeline_{name}"] = rng.choices(("ok", "limited", "down"), LIFELINE_ODDS[name])[0]
    for name in SUPPLIES:
        data[f"supply_{name}"] = rng.choices(("ok", "low", "out"), (6, 3, 1))[0]
    return data


def _shelter_next(rng: random.Random, capacity: int, previous: dict) -> dict:
    data = dict(previous)
    moves = STATUS_NEXT[previous["status"]]
    status = rng.choices([s for s, _ in moves], [w for _, w in moves])[0]
    data["status"] = status
    before = int(previous["evacuees"])
    if status == "open" and previous["status"] == "open":
        evacuees = before + round(rng.gauss(capacity * 0.01, capacity * 0.03))
        evacuees = min(max(evacuees, 0), capacity - 1)
    else:
        evacuees = _evacuees_for(rng, status, capacity)
    per_household = before / max(int(previous["households"]), 1) if before else 2.5
    care_share = int(previous["care_needed"]) / before if before else 0.07
    _set_evacuees(rng, data, capacity, evacuees, max(per_household, 1.0), care_share)
    for name in LIFELINES:
        if rng.random() < LIFELINE_CHANGE:
            data[f"lifeline_{name}"] = _step(rng, ("ok", "limited", "down"),
                                             previous[f"lifeline_{name}"], worse=0.4)
    for name in SUPPLIES:
        if rng.random() < SUPPLY_CHANGE:
            data[f"supply_{name}"] = _step(rng, ("ok", "low", "out"),
                                           previous[f"supply_{name}"], worse=0.5)
    return data


def _evacuees_for(rng: random.Random, status: str, capacity: int) -> int:
    if status == "full":
        return rng.randint(capacity, capacity * 6 // 5)
    if status == "open":
        return int(capacity * rng.betavariate(2, 3))
    return rng.randint(0, 20)


def _set_evacuees(rng: random.Random, data: dict, capacity: int, evacuees: int,
                  per_household: float, care_share: float) -> None:
    data["evacuees"] = str(evacuees)
    data["households"] = str(min(evacuees, round(evacuees / per_household)))
    data["care_needed"] = str(min(evacuees, round(evacuees * care_share)))


def _step(rng: random.Random, levels: tuple[str, ...], level: str, worse: float) -> str:
    """Move `level` one step along `levels` (best first): worse at odds `worse`, else better."""
    index = levels.index(level)
    index += 1 if rng.random() < worse else -1
    return levels[min(max(index, 0), len(levels) - 1)]


def _make_mistake(mistake: str, data: dict, evacuees: int) -> None:
    if mistake == "households_exceed":
        data["households"] = str(evacuees + 5)
    elif mistake == "negative_care":
        data["care_needed"] = "-3"
    elif mistake == "not_a_number":
        data["evacuees"] = f"約{evacuees}"
    elif mistake == "unknown_site":
        data["site_id"] = "S9999"
    elif mistake == "missing_evacuees":
        data["evacuees"] = ""
    elif mistake == "zero_capacity":
        data["capacity"] = "0"
    elif mistake == "unknown_choice":
        data["supply_water"] = "plenty"
    elif mistake == "needs_too_long":
        data["needs"] = "毛布" * 300


# --- staff check-ins ---------------------------------------------------------------------

WHEREABOUTS_ODDS = {"home": 45, "on_the_way": 20, "city_hall": 10, "ward_office": 10,
                    "shelter": 10, "other": 5}
HELP_NOTES = ("自宅の1階が倒壊、足を負傷して動けません", "家族が閉じ込められています",
              "Trapped at home with my child, door jammed")
INJURED_NOTES = ("腕を切りましたが歩けます", "軽い打撲", "Sprained ankle, can walk slowly")
CHECKIN_MISTAKES = ("arrival_not_a_time", "need_help_without_note", "note_too_long",
                    "unknown_choice")


@submission_kind("staff_checkin", form_verbs=("checkin_save",), journal_table="checkins",
                 weight=47)
def staff_checkin(rng: random.Random, user: User, site: SiteRow, submission_id: str,
                  invalid: bool, previous: dict | None) -> tuple[str, dict]:
    """A member of staff telling HQ whether they are safe and when they can be at work."""
    safety = rng.choices(("safe", "injured", "need_help"), (90, 8, 2))[0]
    availability = rng.choices(("now", "later", "unavailable"), (35, 50, 15))[0]
    note = ""
    if safety == "need_help":
        note = rng.choice(HELP_NOTES)
    elif safety == "injured":
        note = rng.choice(INJURED_NOTES)
    data = {
        "submission_id": submission_id,
        "lang": user.lang,
        "safety": safety,
        "whereabouts": rng.choices(list(WHEREABOUTS_ODDS), list(WHEREABOUTS_ODDS.values()))[0],
        "availability": availability,
        "arrival": f"{rng.randint(6, 11):02d}:{rng.choice((0, 15, 30, 45)):02d}"
        if availability == "later" else "",
        "note": note,
    }
    if invalid:
        mistake = rng.choice(CHECKIN_MISTAKES)
        if mistake == "arrival_not_a_time":
            data.update(availability="later", arrival="9時半")
        elif mistake == "need_help_without_note":
            data.update(safety="need_help", note="")
        elif mistake == "note_too_long":
            data["note"] = "状況" * 200
        else:
            data["availability"] = "maybe"
    return "checkin_save", data


# --- supply requests ---------------------------------------------------------------------

# (Japanese item and counter, English item and unit, how many per 100 evacuees): what a
# shelter asks HQ for on its first day, written as the form's placeholder shows.
REQUEST_ITEMS = (
    ("飲料水（2L）", "本", "water (2 L)", " bottles", 60),
    ("毛布", "枚", "blankets", "", 40),
    ("アルファ米", "食", "instant rice", " meals", 150),
    ("紙おむつ Mサイズ", "パック", "diapers size M", " packs", 3),
    ("粉ミルク", "缶", "baby formula", " cans", 2),
    ("簡易トイレ", "基", "portable toilets", "", 2),
    ("生理用品", "パック", "sanitary pads", " packs", 4),
    ("段ボールベッド", "台", "cardboard beds", "", 10),
    ("マスク", "箱", "face masks", " boxes", 2),
    ("乾電池（単3）", "本", "AA batteries", "", 20),
)
REQUEST_NOTES_JA = ("高齢者が多いため、やわらかい食事を希望します", "夜間は裏門から搬入してください",
                    "フォークリフトがないため手降ろしになります")
REQUEST_NOTES_EN = ("Many elderly evacuees: soft food if possible",
                    "Please deliver to the rear gate after dark")
# The request form's limit on items (its maxLength and the bot's own check).
MAX_ITEMS_LENGTH = 1000
REQUEST_MISTAKES = ("items_blank", "items_too_long", "unknown_priority", "unknown_site")


@submission_kind("supply_request", form_verbs=("request_save",),
                 journal_table="supply_requests", weight=6)
def supply_request(rng: random.Random, user: User, site: SiteRow, submission_id: str,
                   invalid: bool, previous: dict | None) -> tuple[str, dict]:
    """A shelter asking HQ for supplies: one to three items with quantities for its size."""
    evacuees = (site.capacity or 300) * rng.uniform(0.3, 0.9)
    lines = []
    for ja, counter, en, unit, per_hundred in rng.sample(REQUEST_ITEMS, rng.randint(1, 3)):
        amount = max(1, round(evacuees * per_hundred / 100))
        if amount >= 50:
            amount = round(amount, -1)
        if user.lang == "ja":
            lines.append(f"{ja}{'' if ja.endswith('）') else ' '}{amount}{counter}")
        else:
            lines.append(f"{en} {amount}{unit}")
    items = ("、" if user.lang == "ja" else ", ").join(lines)
    if rng.random() < 0.2:
        items += "\n" + rng.choice(REQUEST_NOTES_JA if user.lang == "ja" else REQUEST_NOTES_EN)
    data = {
        "submission_id": submission_id,
        "lang": user.lang,
        "site_id": site.id,
        "items": items,
        "priority": rng.choices(("urgent", "normal"), (30, 70))[0],
    }
    if invalid:
        mistake = rng.choice(REQUEST_MISTAKES)
        if mistake == "items_blank":
            # Spaces and line breaks pass the card's own required check, not the bot's.
            data["items"] = " \n "
        elif mistake == "items_too_long":
            # A whole inventory pasted from a spreadsheet, on a client that ignores maxLength.
            data["items"] = "\n".join([items] * (MAX_ITEMS_LENGTH // len(items) + 1))
        elif mistake == "unknown_priority":
            data["priority"] = "high"
        else:
            data["site_id"] = "S9999"
    return "request_save", data


# --- HQ channels -------------------------------------------------------------------------

BOT = {"id": "28:bcp-board", "name": "BCP Board"}
HQ_CHANNELS = 3


def hq_conversation(number: int) -> str:
    return f"19:bench-hq-{number}@thread.tacv2"


def hq_activity(kind: str, number: int, service_url: str, extra: dict) -> dict:
    """Return an activity from an HQ member in HQ team channel `number`."""
    return {
        "type": kind,
        "id": f"bench-hq-{kind}-{number}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": f"29:hq-{number}", "name": f"本部 {number}",
                 "aadObjectId": f"aad-hq-{number}"},
        "recipient": BOT,
        "conversation": {"id": hq_conversation(number), "conversationType": "channel",
                         "isGroup": True},
        "locale": "ja-jp",
        "localTimezone": "Asia/Tokyo",
        "channelData": {"tenant": {"id": "bench-tenant"}, "team": {"id": f"19:bench-team-{number}"},
                        "channel": {"id": hq_conversation(number)}},
        **extra,
    }


# --- HQ moving supply requests -----------------------------------------------------------

MOVE_VERB = "request_move"
CANCEL_ODDS = 0.05
NOTE_ODDS = 0.2
HQ_NOTES = ("2トン車で15時到着予定", "北倉庫から出庫しました", "在庫が半分のため残りは明朝発送",
            "自衛隊の輸送車で搬送します")


def request_moves(card: dict) -> list[dict]:
    """Return the data of each move button on a request's card, in the card's order."""
    return [dict(action["data"]) for action in card.get("actions") or ()
            if action.get("type") == "Action.Execute" and action.get("verb") == MOVE_VERB]


def next_move(rng: random.Random, moves: list[dict]) -> dict:
    """Return what an HQ member's press of the request's next step sends.

    The card lists the steps onward first (approve, dispatch, confirm delivery) and
    cancelling last; HQ takes the first step, and now and then cancels instead. The
    press carries the button's data and the card's note field, as Teams sends them.
    """
    onward = [move for move in moves if move.get("state") != "cancelled"]
    cancel = [move for move in moves if move.get("state") == "cancelled"]
    chosen = cancel[0] if cancel and (not onward or rng.random() < CANCEL_ODDS) else onward[0]
    return dict(chosen, hq_note=rng.choice(HQ_NOTES) if rng.random() < NOTE_ODDS else "")


def move_outcome(card: dict) -> str | None:
    """Return "made" or "refused" for the bot's answer to a move, or None for neither.

    The bot answers a press with the request's card opening on a notice: "good" when
    the move was made (or this very press was made before), "warning" when it was not
    (someone moved the request first); a request it cannot find has no notice.
    """
    body = card.get("body") or [{}]
    notice = body[0] if body[0].get("type") == "Container" else {}
    return {"good": "made", "warning": "refused"}.get(notice.get("style"))
