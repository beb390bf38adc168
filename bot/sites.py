"""The site registry: shelters, ward offices and city hall, loaded from a CSV file.

The header row tells the layout: our English one, the Geospatial Information Authority's
designated shelter lists or the Digital Agency's shelter dataset. A bad row becomes a
`RowProblem` and is skipped; the rest of the file still loads.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import operator
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from bot.errors import RegistryError
from bot.model import MAX_PEOPLE, Site, SiteKind

logger = logging.getLogger(__name__)

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
_SEARCHED = operator.attrgetter("id", "name_ja", "name_en", "kana", "address")


@dataclass(frozen=True)
class RowProblem:
    """A row of a registry file that was skipped, and why."""

    path: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: column '{self.column}': {self.message}"


@dataclass(frozen=True)
class _Layout:
    name: str
    columns: dict[str, str]
    address_parts: tuple[str, ...] = ()


_FIELDS = ("id", "kind", "name_ja", "name_en", "kana", "capacity", "address", "latitude",
           "longitude")
_LAYOUTS = (
    _Layout("English", {name: name for name in _FIELDS}),
    _Layout("GSI designated shelters", {
        "id": "共通ID", "name_ja": "施設・場所名", "address": "住所",
        "latitude": "緯度", "longitude": "経度",
    }),
    _Layout("Digital Agency shelter dataset", {
        "id": "ID", "name_ja": "名称", "kana": "名称_カナ", "name_en": "名称_英字",
        "address": "所在地_連結表記", "latitude": "緯度", "longitude": "経度",
        "capacity": "想定収容人数",
    }, address_parts=("所在地_都道府県", "所在地_市区町村", "所在地_町字", "所在地_番地以下")),
)


class _Skip(Exception):
    """Reject the current row: args are the column header and the message."""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().translate(_KATAKANA_TO_HIRAGANA)


class Registry:
    """The known sites by id, in file order, with the problems found while loading them."""

    def __init__(self, sites: Iterable[Site], problems: Iterable[RowProblem] = ()) -> None:
        self.sites: dict[str, Site] = {}
        for site in sites:
            self.sites.setdefault(site.id, site)
        self.problems: list[RowProblem] = list(problems)
        self._folded = {site.id: [_fold(text) for text in _SEARCHED(site)] for site in self}

    def get(self, site_id: str) -> Site | None:
        return self.sites.get(site_id)

    def __len__(self) -> int:
        return len(self.sites)

    def __iter__(self) -> Iterator[Site]:
        return iter(self.sites.values())

    def __contains__(self, site_id: object) -> bool:
        return site_id in self.sites

    def shelters(self) -> list[Site]:
        """Return the shelters, in file order."""
        return [site for site in self if site.kind is SiteKind.SHELTER]

    def search(self, query: str, limit: int = 50) -> list[Site]:
        """Return up to `limit` sites that contain every word of `query`, best first.

        Matching ignores case, full/half width and hiragana/katakana, and looks at the id,
        both names, the kana and the address. Exact ids and names rank first, then those
        that start with the query, then any other match; ties keep file order. An empty
        query returns every site up to `limit`.
        """
        words = _fold(query).split()
        folded = " ".join(words)
        ranked = []
        for site in self:
            texts = self._folded[site.id]
            if not all(any(word in text for text in texts) for word in words):
                continue
            names = texts[:-1]
            prefix = any(name.startswith(folded) for name in names)
            ranked.append((0 if folded in names else 1 if prefix else 2, site))
        ranked.sort(key=lambda pair: pair[0])
        return [site for _, site in ranked[:limit]]


def load_registry(path: Path) -> Registry:
    """Read a site registry CSV file.

    Args:
        path: a CSV file in UTF-8 (BOM optional) or Shift_JIS (cp932), in an accepted layout.

    Returns:
        The registry; rows that could not be used are in `Registry.problems`.

    Raises:
        RegistryError: the file cannot be read or its header is not an accepted layout.
    """
    records = _records(path)
    _, header = next(records, (1, []))
    layout, index = _detect_layout(path, header)

    sites: list[Site] = []
    problems: list[RowProblem] = []
    first_lines: dict[str, int] = {}
    for line, cells in records:
        try:
            site = _parse_row(layout, index, cells)
            if site.id in first_lines:
                given = _cell(index, cells, layout.columns["id"])
                raise _Skip(layout.columns["id" if given else "name_ja"],
                            f"duplicate id {site.id!r} (first on line {first_lines[site.id]})")
        except _Skip as skip:
            problems.append(RowProblem(path.name, line, *skip.args))
            continue
        first_lines[site.id] = line
        sites.append(site)

    for problem in problems:
        logger.warning("Skipped a site registry row: %s", problem)
    logger.info("Loaded %d sites from %s (%s layout, %d rows skipped)",
                len(sites), path, layout.name, len(problems))
    return Registry(sites, problems)


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield each non-blank record with the physical line it starts on."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RegistryError(f"Cannot read the site registry {path}: {error}") from error
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            pass
    else:
        raise RegistryError(f"The site registry {path} is neither UTF-8 nor Shift_JIS (cp932); "
                            "save it in one of those encodings")

    # A quoted field may hold line breaks, so a record can span several physical lines.
    reader = csv.reader(io.StringIO(text, newline=""))
    end = 0
    try:
        for cells in reader:
            line, end = end + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                yield line, cells
    except csv.Error as error:
        raise RegistryError(f"{path}:{reader.line_num}: not valid CSV: {error}") from error


def _match_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _detect_layout(path: Path, header: list[str]) -> tuple[_Layout, dict[str, int]]:
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        index.setdefault(_match_key(name), position)
    for layout in _LAYOUTS:
        names = (layout.columns["name_ja"], layout.columns.get("name_en", ""))
        if any(_match_key(name) in index for name in names if name):
            return layout, index
    accepted = "; ".join(f"{lay.name}: {', '.join(lay.columns.values())}" for lay in _LAYOUTS)
    raise RegistryError(f"The site registry {path} has an unknown header row: "
                        f"{','.join(header)[:200] or '(empty file)'}. Accepted headers "
                        f"(every column but the name optional): {accepted}")


def _cell(index: dict[str, int], cells: list[str], column: str) -> str:
    position = index.get(_match_key(column), len(cells))
    return cells[position].strip() if position < len(cells) else ""


def _parse_row(layout: _Layout, index: dict[str, int], cells: list[str]) -> Site:
    columns = layout.columns
    values = dict.fromkeys(_FIELDS, "")
    values.update({name: _cell(index, cells, column) for name, column in columns.items()})
    if not values["name_ja"] and not values["name_en"]:
        raise _Skip(columns["name_ja"], "the name is empty")
    if not values["address"]:
        values["address"] = "".join(_cell(index, cells, part) for part in layout.address_parts)

    return Site(
        id=values["id"] or _derived_id(values["name_ja"] or values["name_en"]),
        name_ja=values["name_ja"],
        name_en=values["name_en"],
        kind=_kind(values["kind"]),
        kana=values["kana"],
        capacity=_number(columns.get("capacity", ""), values["capacity"], 1, MAX_PEOPLE, True),
        address=values["address"],
        latitude=_number(columns["latitude"], values["latitude"], -90, 90),
        longitude=_number(columns["longitude"], values["longitude"], -180, 180),
    )


def _derived_id(name: str) -> str:
    digest = hashlib.sha1(unicodedata.normalize("NFKC", name).encode("utf-8")).hexdigest()
    return "site-" + digest[:10]


def _kind(raw: str) -> SiteKind:
    if not raw:
        return SiteKind.SHELTER
    try:
        return SiteKind(_match_key(raw))
    except ValueError:
        accepted = ", ".join(kind.value for kind in SiteKind)
        raise _Skip("kind", f"{raw!r} is not a site kind (use one of: {accepted})") from None


def _number(column: str, raw: str, low: int, high: int, whole: bool = False) -> float | None:
    if not raw:
        return None
    # Japanese files often write numbers in full-width digits or with thousands separators.
    try:
        value = float(unicodedata.normalize("NFKC", raw).replace(",", ""))
    except ValueError:
        value = float("nan")
    if value != value or (whole and not value.is_integer()):
        raise _Skip(column, f"{raw!r} is not a {'whole ' if whole else ''}number")
    if not low <= value <= high:
        raise _Skip(column, f"{raw!r} is not in {low}..{high}")
    return int(value) if whole else value
