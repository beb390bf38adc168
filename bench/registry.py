"""Generate a site registry for a large city: 600 shelters by default, in our CSV layout.

Names, readings and capacities follow the pattern of a Japanese city's designated
shelters (schools, community centres, gyms), in ten wards of the fictional Hamakaze
city that the sample registry uses. The same seed always gives the same file.

    python -m bench.registry OUT.csv [--count 600] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from pathlib import Path

HEADER = ("id", "kind", "name_ja", "name_en", "kana", "capacity", "address", "latitude",
          "longitude")

# (kanji, katakana reading, romaji) for wards, town-name prefixes and town names.
WARDS = (
    ("中央", "チュウオウ", "Chuo"), ("港", "ミナト", "Minato"), ("東", "ヒガシ", "Higashi"),
    ("西", "ニシ", "Nishi"), ("南", "ミナミ", "Minami"), ("北", "キタ", "Kita"),
    ("緑", "ミドリ", "Midori"), ("青葉", "アオバ", "Aoba"), ("浜", "ハマ", "Hama"),
    ("山手", "ヤマテ", "Yamate"),
)
PREFIXES = (
    ("", "", ""), ("東", "ヒガシ", "Higashi-"), ("西", "ニシ", "Nishi-"),
    ("南", "ミナミ", "Minami-"), ("北", "キタ", "Kita-"), ("新", "シン", "Shin-"),
    ("上", "カミ", "Kami-"), ("下", "シモ", "Shimo-"),
)
TOWNS = (
    ("汐見", "シオミ", "Shiomi"), ("松原", "マツバラ", "Matsubara"), ("桜台", "サクラダイ", "Sakuradai"),
    ("若葉", "ワカバ", "Wakaba"), ("日の出", "ヒノデ", "Hinode"), ("本町", "ホンチョウ", "Honcho"),
    ("栄", "サカエ", "Sakae"), ("旭", "アサヒ", "Asahi"), ("緑ヶ丘", "ミドリガオカ", "Midorigaoka"),
    ("美園", "ミソノ", "Misono"), ("岬台", "ミサキダイ", "Misakidai"), ("髙森", "タカモリ", "Takamori"),
    ("白浜", "シラハマ", "Shirahama"), ("大橋", "オオハシ", "Ohashi"), ("春日", "カスガ", "Kasuga"),
    ("宮前", "ミヤマエ", "Miyamae"), ("川端", "カワバタ", "Kawabata"), ("柳町", "ヤナギマチ", "Yanagimachi"),
    ("富士見", "フジミ", "Fujimi"), ("青山", "アオヤマ", "Aoyama"), ("竹の内", "タケノウチ", "Takenouchi"),
    ("小松", "コマツ", "Komatsu"), ("梅田", "ウメダ", "Umeda"), ("朝日", "アサヒ", "Asahi"),
    ("弥生", "ヤヨイ", "Yayoi"), ("城山", "シロヤマ", "Shiroyama"), ("泉", "イズミ", "Izumi"),
    ("高砂", "タカサゴ", "Takasago"), ("寿", "コトブキ", "Kotobuki"), ("浦島", "ウラシマ", "Urashima"),
)
# (kanji, katakana reading, English, capacity range): what a designated shelter usually is.
FACILITIES = (
    ("小学校", "ショウガッコウ", "Elementary School", (300, 900)),
    ("中学校", "チュウガッコウ", "Junior High School", (400, 1000)),
    ("高等学校", "コウトウガッコウ", "High School", (500, 1200)),
    ("地区センター", "チクセンター", "Community Center", (80, 250)),
    ("公民館", "コウミンカン", "Public Hall", (60, 200)),
    ("市民体育館", "シミンタイイクカン", "Gymnasium", (300, 1500)),
    ("コミュニティハウス", "コミュニティハウス", "Community House", (40, 120)),
)
CENTRE = (34.6921, 137.9254)


@dataclass(frozen=True)
class SiteRow:
    """One generated site: what the load generator needs besides the CSV row."""

    id: str
    name_ja: str
    name_en: str
    capacity: int


def generate(count: int = 600, seed: int = 0) -> list[dict[str, str]]:
    """Return `count` shelter rows (dicts keyed by HEADER), the same for the same seed."""
    rng = random.Random(seed)
    combos = [(p, t, f) for p in PREFIXES for t in TOWNS for f in FACILITIES]
    if count > len(combos):
        raise ValueError(f"at most {len(combos)} distinct sites can be generated, not {count}")
    rng.shuffle(combos)

    rows = []
    for number, (prefix, town, facility) in enumerate(combos[:count], start=1):
        ward = WARDS[(number - 1) % len(WARDS)]
        low, high = facility[3]
        rows.append({
            "id": f"S{number:04d}",
            "kind": "shelter",
            "name_ja": f"{prefix[0]}{town[0]}{facility[0]}",
            "name_en": f"{prefix[2]}{town[2]} {facility[2]}",
            "kana": f"{prefix[1]}{town[1]}{facility[1]}",
            "capacity": str(rng.randrange(low, high + 1, 10)),
            "address": f"浜風市{ward[0]}区{prefix[0]}{town[0]}{rng.randint(1, 5)}-"
                       f"{rng.randint(1, 30)}-{rng.randint(1, 20)}",
            "latitude": f"{CENTRE[0] + rng.uniform(-0.08, 0.08):.4f}",
            "longitude": f"{CENTRE[1] + rng.uniform(-0.10, 0.10):.4f}",
        })
    return rows


def write_registry(path: Path, count: int = 600, seed: int = 0) -> list[SiteRow]:
    """Write a generated registry to `path` (UTF-8, English header) and return its sites."""
    rows = generate(count, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return [SiteRow(r["id"], r["name_ja"], r["name_en"], int(r["capacity"])) for r in rows]


def read_sites(path: Path) -> list[SiteRow]:
    """Read the sites that can report from a registry in our CSV layout."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        return [
            SiteRow(row["id"], row["name_ja"], row["name_en"], int(row["capacity"] or 0))
            for row in csv.DictReader(file)
            if row.get("kind", "shelter") in ("", "shelter")
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sites = write_registry(args.out, args.count, args.seed)
    print(f"wrote {len(sites)} sites to {args.out}")


if __name__ == "__main__":
    main()
