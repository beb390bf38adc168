"""The SharePoint lists of the shared board, as data: names, columns, choices.

Internal names (list URL names and column names) are ASCII and never change; they are
what the bot reads and writes. Display names are Japanese, for the people who open the
lists in Teams, and HQ may rename them freely. Every list has an indexed, unique `Key`
column holding the journal's id for the row, so a retried create is found, not repeated.

Choice columns store Japanese labels (what HQ sees and picks in SharePoint); the bot
speaks the domain codes of model.py, and `to_graph_fields` / `from_graph_fields`
translate. SharePoint's built-in `Title` column exists in every list; the mirror fills it
with a short human label and it is not defined here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum

from bot.model import LIFELINES, SUPPLIES
from bot.store.stamps import graph_time


class ColumnType(str, Enum):
    TEXT = "text"
    NOTE = "note"  # multi-line text
    NUMBER = "number"
    CHOICE = "choice"
    DATETIME = "dateTime"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class Column:
    """One column: `name` is the ASCII internal name, `display_name` the Japanese one.

    `editable` marks the columns whose edits by HQ flow back into the journal.
    """

    name: str
    display_name: str
    type: ColumnType
    choices: tuple[Choice, ...] = ()
    indexed: bool = False
    unique: bool = False
    editable: bool = False

    def to_graph(self, value: object) -> object:
        """Return a journal value as SharePoint stores it in this column."""
        if value is None:
            return None
        if self.type is ColumnType.CHOICE:
            code = value.value if isinstance(value, Enum) else str(value)
            return self._label(code)
        if self.type is ColumnType.DATETIME and isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return graph_time(moment)
        return value

    def from_graph(self, value: object) -> object:
        """Return a SharePoint value of this column as the journal speaks it."""
        if value is None:
            return None
        if self.type is ColumnType.CHOICE:
            return next((c.code for c in self.choices if c.label == value), value)
        if self.type is ColumnType.DATETIME:
            # NOTE: Kiota already turns date-like strings in list fields into datetimes.
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if self.type is ColumnType.NUMBER and isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def _label(self, code: str) -> str:
        for choice in self.choices:
            if choice.code == code:
                return choice.label
        raise ValueError(f"{self.name}: {code!r} is not one of {[c.code for c in self.choices]}")


@dataclass(frozen=True)
class ListSchema:
    """One list: `key` names it in code and in the outbox, `name` in SharePoint."""

    key: str
    name: str
    display_name: str
    columns: tuple[Column, ...]

    @property
    def two_way(self) -> bool:
        """Return True when HQ's edits of this list flow back into the journal."""
        return any(column.editable for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"list {self.key} has no column {name!r}")

    def to_graph_fields(self, values: Mapping[str, object]) -> dict[str, object]:
        """Translate journal values (column name -> value) into SharePoint fields."""
        return {
            name: value if name == "Title" else self.column(name).to_graph(value)
            for name, value in values.items()
        }

    def from_graph_fields(self, fields: Mapping[str, object]) -> dict[str, object]:
        """Translate SharePoint fields back, keeping only this schema's columns."""
        known = {column.name: column for column in self.columns}
        return {name: known[name].from_graph(v) for name, v in fields.items() if name in known}


def _choices(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(code, label) for code, label in pairs)


def _text(name: str, label: str, **flags) -> Column:
    return Column(name, label, ColumnType.TEXT, **flags)


def _note(name: str, label: str, **flags) -> Column:
    return Column(name, label, ColumnType.NOTE, **flags)


def _number(name: str, label: str, **flags) -> Column:
    return Column(name, label, ColumnType.NUMBER, **flags)


def _when(name: str, label: str, **flags) -> Column:
    return Column(name, label, ColumnType.DATETIME, **flags)


def _flag(name: str, label: str, **flags) -> Column:
    return Column(name, label, ColumnType.BOOLEAN, **flags)


def _choice(name: str, label: str, choices: tuple[Choice, ...], **flags) -> Column:
    return Column(name, label, ColumnType.CHOICE, choices, **flags)


KEY = _text("Key", "連携キー", indexed=True, unique=True)
SITE_ID = _text("SiteId", "拠点ID", indexed=True)

SITE_KINDS = _choices(
    ("shelter", "避難所"), ("ward_office", "区役所"), ("city_hall", "市役所"), ("other", "その他")
)
SHELTER_STATUSES = _choices(
    ("preparing", "開設準備中"), ("open", "開設中"), ("full", "満員"), ("closed", "閉鎖")
)
# The levels of bot.board.Congestion, by lowercased name.
CONGESTION = _choices(
    ("unknown", "不明"),
    ("closed", "閉鎖"),
    ("preparing", "開設準備中"),
    ("available", "空きあり"),
    ("somewhat_crowded", "やや混雑"),
    ("crowded", "混雑"),
)
LIFELINE_LEVELS = _choices(("ok", "正常"), ("limited", "一部支障"), ("down", "停止"))
SUPPLY_LEVELS = _choices(("ok", "充足"), ("low", "不足"), ("out", "欠品"))
# The codes of bot.staff.Whereabouts and Safety.
LOCATIONS = _choices(
    ("home", "自宅"),
    ("shelter", "避難所"),
    ("city_hall", "市役所"),
    ("ward_office", "区役所・支所"),
    ("on_the_way", "移動中"),
    ("other", "その他"),
)
SAFETY = _choices(("safe", "無事"), ("injured", "負傷あり"), ("need_help", "要救助・要支援"))
PRIORITIES = _choices(("urgent", "至急"), ("normal", "通常"))
REQUEST_STATES = _choices(
    ("requested", "要請中"),
    ("approved", "承認済み"),
    ("dispatched", "発送済み"),
    ("delivered", "到着済み"),
    ("cancelled", "取消し"),
)

LIFELINE_NAMES = {"power": "電気", "water": "水道", "gas": "ガス", "telecom": "通信"}
SUPPLY_NAMES = {
    "water": "飲料水",
    "food": "食料",
    "blankets": "毛布",
    "medicine": "医薬品",
    "toilets": "トイレ",
    "formula": "粉ミルク",
    "diapers": "おむつ",
    "sanitary": "生理用品",
}


def lifeline_column(lifeline: str) -> str:
    """Return the column name for a lifeline of model.LIFELINES, e.g. LifelinePower."""
    return "Lifeline" + lifeline.title().replace("_", "")


def supply_column(supply: str) -> str:
    """Return the column name for a supply of model.SUPPLIES, e.g. SupplyBlankets."""
    return "Supply" + supply.title().replace("_", "")


# A lifeline or supply added to model.py without a Japanese name shows its code until
# it gets one here.
LIFELINE_COLUMNS = tuple(
    _choice(lifeline_column(n), LIFELINE_NAMES.get(n, n), LIFELINE_LEVELS) for n in LIFELINES
)
SUPPLY_COLUMNS = tuple(
    _choice(supply_column(n), SUPPLY_NAMES.get(n, n), SUPPLY_LEVELS) for n in SUPPLIES
)
REPORT_COUNTS = (
    _choice("Status", "開設状況", SHELTER_STATUSES),
    _number("Evacuees", "避難者数"),
    _number("Households", "世帯数"),
    _number("CareNeeded", "要配慮者数"),
    _number("Capacity", "収容定員"),
)



def _editable(*columns: Column) -> tuple[Column, ...]:
    return tuple(replace(column, editable=True) for column in columns)


# HQ corrects a site's state on the board; each edit becomes a correction in the journal
# (bot/graph/delta.py). The history in Reports and the derived columns are the bot's.
SITES_BOARD = ListSchema(
    key="sites",
    name="BcpSitesBoard",
    display_name="拠点状況ボード",
    columns=(
        KEY,
        SITE_ID,
        _choice("SiteKind", "種別", SITE_KINDS),
        *_editable(*REPORT_COUNTS),
        _number("CapacityUse", "収容率(%)"),
        _choice("Congestion", "混雑度", CONGESTION),
        *_editable(*LIFELINE_COLUMNS, *SUPPLY_COLUMNS, _note("UrgentNeeds", "緊急ニーズ")),
        _when("LastReportAt", "最終報告日時"),
        _text("LastReporter", "最終報告者"),
        _flag("Stale", "報告途絶"),
    ),
)
REPORTS = ListSchema(
    key="reports",
    name="BcpReports",
    display_name="避難所報告履歴",
    columns=(
        KEY,
        SITE_ID,
        *REPORT_COUNTS,
        *LIFELINE_COLUMNS,
        *SUPPLY_COLUMNS,
        _note("UrgentNeeds", "緊急ニーズ"),
        _when("ReportedAt", "報告日時"),
        _text("Reporter", "報告者"),
    ),
)
CHECKINS = ListSchema(
    key="checkins",
    name="BcpCheckins",
    display_name="職員参集状況",
    columns=(
        KEY,
        _text("StaffId", "職員ID", indexed=True),
        _text("StaffName", "氏名"),
        _flag("Safe", "安否(無事)"),
        _choice("Safety", "安否", SAFETY),
        _choice("Location", "現在地", LOCATIONS),
        _flag("Available", "参集可能"),
        _when("ExpectedArrival", "到着見込み"),
        _note("Note", "備考"),
        _when("CheckedInAt", "報告日時"),
    ),
)
SUPPLY_REQUESTS = ListSchema(
    key="supply_requests",
    name="BcpSupplyRequests",
    display_name="物資要請",
    columns=(
        KEY,
        SITE_ID,
        _note("Items", "品目と数量"),
        _choice("Priority", "優先度", PRIORITIES),
        _choice("State", "対応状況", REQUEST_STATES, editable=True),
        _when("RequestedAt", "要請日時"),
        _text("Requester", "要請者"),
        _when("UpdatedAt", "最終更新日時"),
        _text("UpdatedBy", "最終更新者"),
        _note("HqNote", "本部メモ", editable=True),
    ),
)
DIRECTIVES = ListSchema(
    key="directives",
    name="BcpDirectives",
    display_name="本部指示",
    columns=(
        KEY,
        _note("Message", "指示内容"),
        _note("Targets", "対象拠点"),
        _when("IssuedAt", "発出日時"),
        _text("IssuedBy", "発出者"),
    ),
)
DIRECTIVE_ACKS = ListSchema(
    key="directive_acks",
    name="BcpDirectiveAcks",
    display_name="指示確認状況",
    columns=(
        KEY,
        _text("DirectiveKey", "指示キー", indexed=True),
        SITE_ID,
        _when("AcknowledgedAt", "確認日時"),
        _text("AcknowledgedBy", "確認者"),
    ),
)

LISTS = (SITES_BOARD, REPORTS, CHECKINS, SUPPLY_REQUESTS, DIRECTIVES, DIRECTIVE_ACKS)
LISTS_BY_KEY = {schema.key: schema for schema in LISTS}
