import logging
from pathlib import Path

import pytest

from bot.errors import RegistryError
from bot.model import Site, SiteKind
from bot.settings import SAMPLE_SITES
from bot.sites import Registry, RowProblem, load_registry

FIXTURES = Path(__file__).parent / "fixtures" / "sites"

GSI_SHELTERS = (
    "NO,共通ID,都道府県名及び市町村名,施設・場所名,住所,指定緊急避難場所との住所同一,"
    "その他市町村長が必要と認める事項,受入対象者,緯度,経度,備考\r\n"
    "1,229991000101,静岡県浜風市,港小学校,静岡県浜風市港区汐見町1-12-1,1,,,34.6812,137.9335,\r\n"
    "2,229991000102,静岡県浜風市,髙森公民館,静岡県浜風市北区髙森2-3-4,,,,34.7201,137.9102,\r\n"
    "3,,静岡県浜風市,岬台集会所,静岡県浜風市港区岬台1-1-1,,,,,,\r\n"
)
GSI_PER_CITY_SHELTERS = (
    "NO,共通ID,施設・場所名,住所,指定緊急避難場所との住所同一,"
    "その他市町村長が必要と認める事項,受入対象者,緯度,経度,備考\r\n"
    "1,229991000101,港小学校,静岡県浜風市港区汐見町1-12-1,1,,,34.6812,137.9335,\r\n"
)
GSI_EMERGENCY_SITES = (
    "NO,共通ID,都道府県名及び市町村名,施設・場所名,住所,洪水,崖崩れ、土石流及び地滑り,高潮,地震,"
    "津波,大規模な火事,内水氾濫,火山現象,指定避難所との住所同一,緯度,経度,備考\r\n"
    "1,229991000201,静岡県浜風市,岬台公園,静岡県浜風市港区岬台3-1,,1,,1,1,1,,,1,34.6861,137.9430,\r\n"
)


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "sites.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_gsi_shelter_list_in_cp932_loads_names_ids_and_coordinates(tmp_path):
    path = write(tmp_path, GSI_SHELTERS, "cp932")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")

    registry = load_registry(path)

    assert registry.problems == []
    assert [site.name_ja for site in registry] == ["港小学校", "髙森公民館", "岬台集会所"]
    school = registry.get("229991000101")
    assert school.address == "静岡県浜風市港区汐見町1-12-1"
    assert (school.latitude, school.longitude) == (34.6812, 137.9335)
    assert school.kind is SiteKind.SHELTER
    assert school.capacity is None


@pytest.mark.parametrize(
    ("text", "site_id", "name"),
    [(GSI_PER_CITY_SHELTERS, "229991000101", "港小学校"),
     (GSI_EMERGENCY_SITES, "229991000201", "岬台公園")],
)
def test_gsi_per_city_and_emergency_site_variants_load(tmp_path, text, site_id, name):
    registry = load_registry(write(tmp_path, text, "cp932"))

    assert registry.problems == []
    [site] = registry
    assert (site.id, site.name_ja) == (site_id, name)
    assert site.latitude is not None and site.address.startswith("静岡県浜風市")


def test_digital_agency_dataset_with_bom_and_empty_columns_loads():
    registry = load_registry(FIXTURES / "digital_agency_shelters_bom.csv")

    assert registry.problems == []
    assert len(registry) == 3
    school = registry.get("229991-0001")
    assert school.name_ja == "汐見小学校"
    assert school.name_en == "Shiomi Elementary School"
    assert school.kana == "シオミショウガッコウ"
    assert school.capacity == 540
    assert school.address == "静岡県浜風市港区汐見町1-12-1"


def test_digital_agency_address_parts_fill_in_for_an_empty_joined_address():
    hall = load_registry(FIXTURES / "digital_agency_shelters_bom.csv").get("229991-0002")

    assert hall.address == "静岡県浜風市港区浜町2-1-4"
    assert hall.capacity == 1200
    assert hall.name_en == ""


def test_row_with_only_a_name_loads_with_a_derived_id():
    [*_, meeting_hall] = load_registry(FIXTURES / "digital_agency_shelters_bom.csv")

    assert meeting_hall.name_ja == "岬台集会所"
    assert meeting_hall.id.startswith("site-")
    assert (meeting_hall.capacity, meeting_hall.latitude, meeting_hall.address) == (None, None, "")


def test_derived_ids_are_the_same_across_loads(tmp_path):
    path = write(tmp_path, GSI_SHELTERS, "cp932")

    assert list(load_registry(path).sites) == list(load_registry(path).sites)


def test_bad_capacity_names_file_line_and_column():
    registry = load_registry(FIXTURES / "english_bad_rows.csv")

    assert str(registry.problems[0]) == (
        "english_bad_rows.csv:3: column 'capacity': '12a' is not a whole number"
    )


def test_each_bad_row_is_reported_with_its_physical_line_and_column():
    registry = load_registry(FIXTURES / "english_bad_rows.csv")

    located = [(problem.path, problem.line, problem.column) for problem in registry.problems]
    assert located == [
        ("english_bad_rows.csv", 3, "capacity"),
        ("english_bad_rows.csv", 4, "latitude"),
        ("english_bad_rows.csv", 5, "kind"),
        ("english_bad_rows.csv", 6, "name_ja"),
        ("english_bad_rows.csv", 9, "capacity"),
    ]
    assert "'95.0' is not in -90..90" in registry.problems[1].message
    assert "'hospital' is not a site kind" in registry.problems[2].message


def test_good_rows_still_load_around_bad_ones():
    registry = load_registry(FIXTURES / "english_bad_rows.csv")

    assert list(registry.sites) == ["S1", "S6", "W1"]
    assert registry.get("S6").kind is SiteKind.SHELTER
    assert registry.get("S6").address == "浜風市港区岬台2-15-1\n（旧岬台分校）"
    assert registry.get("W1").kind is SiteKind.WARD_OFFICE


def test_problems_are_logged_as_warnings_and_the_count_as_info(caplog):
    caplog.set_level(logging.INFO, logger="bot.sites")

    load_registry(FIXTURES / "english_bad_rows.csv")

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 5
    assert "english_bad_rows.csv:3: column 'capacity'" in warnings[0].getMessage()
    assert len(infos) == 1 and "Loaded 3 sites" in infos[0].getMessage()


def test_duplicate_id_is_a_problem_and_the_first_row_wins():
    registry = load_registry(FIXTURES / "duplicate_ids.csv")

    *_, meeting_hall = registry
    assert registry.get("S1").name_ja == "港小学校"
    assert meeting_hall.name_en == "Misakidai Meeting Hall"
    assert [str(problem) for problem in registry.problems] == [
        "duplicate_ids.csv:4: column 'id': duplicate id 'S1' (first on line 2)",
        f"duplicate_ids.csv:6: column 'name_ja': duplicate id '{meeting_hall.id}'"
        " (first on line 5)",
    ]
    assert len(registry) == 3


def test_unknown_header_raises_registry_error_naming_path_and_accepted_headers(tmp_path):
    path = write(tmp_path, "番号,施設名,所在地\n1,港小学校,浜風市\n")

    with pytest.raises(RegistryError) as caught:
        load_registry(path)

    message = str(caught.value)
    assert str(path) in message
    assert "name_ja" in message and "施設・場所名" in message and "名称_カナ" in message


def test_missing_file_raises_registry_error_naming_path(tmp_path):
    path = tmp_path / "absent.csv"

    with pytest.raises(RegistryError, match="absent.csv"):
        load_registry(path)


def test_english_header_is_matched_regardless_of_case_and_column_order(tmp_path):
    path = write(tmp_path, "Name_EN,Capacity,ID\nMinato Elementary School,540,S1\n")

    site = load_registry(path).get("S1")

    assert (site.name_en, site.name_ja, site.capacity) == ("Minato Elementary School", "", 540)


def test_utf8_without_bom_loads(tmp_path):
    path = write(tmp_path, "id,name_ja\nS1,港小学校\n")

    assert load_registry(path).get("S1").name_ja == "港小学校"


def sites(*rows: tuple[str, str, str, str]) -> Registry:
    return Registry(Site(id=i, name_ja=ja, name_en=en, kana=kana) for i, ja, en, kana in rows)


SEARCHABLE = sites(
    ("S020", "市立中央小学校", "Municipal Chuo Elementary School", "シリツチュウオウショウガッコウ"),
    ("W01", "中央区役所", "Chuo Ward Office", "チュウオウクヤクショ"),
    ("S003", "中央公民館", "Chuo Community Hall", "チュウオウコウミンカン"),
    ("S006", "港小学校", "Minato Elementary School", "ミナトショウガッコウ"),
    ("S011", "港地区センター", "Minato District Center", "ミナトチクセンター"),
)


@pytest.mark.parametrize("query", ["チュウオウ", "ちゅうおう", "ﾁｭｳｵｳ", "ＣＨＵＯ", "chuo"])
def test_search_treats_kana_width_and_case_as_equal(query):
    assert [site.id for site in SEARCHABLE.search(query)] == ["W01", "S003", "S020"]


def test_search_ranks_name_prefix_before_substring_and_keeps_file_order_within():
    assert [site.id for site in SEARCHABLE.search("中央")] == ["W01", "S003", "S020"]
    assert [site.id for site in SEARCHABLE.search("小学校")] == ["S020", "S006"]


def test_search_ranks_an_exact_id_first():
    assert [site.id for site in SEARCHABLE.search("s006")] == ["S006"]


def test_search_needs_every_word_to_match():
    assert [site.id for site in SEARCHABLE.search("minato elementary")] == ["S006"]
    assert [site.id for site in SEARCHABLE.search("港 センター")] == ["S011"]


def test_empty_search_returns_every_site_up_to_the_limit():
    assert [site.id for site in SEARCHABLE.search("", limit=2)] == ["S020", "W01"]
    assert len(SEARCHABLE.search("   ")) == len(SEARCHABLE)


def test_registry_keeps_the_first_of_two_sites_with_one_id():
    registry = Registry([Site(id="S1", name_ja="港小学校"), Site(id="S1", name_ja="浜町公民館")])

    assert len(registry) == 1
    assert "S1" in registry and "S2" not in registry
    assert registry.get("S1").name_ja == "港小学校"
    assert registry.get("S2") is None


def test_sample_registry_loads_without_problems():
    registry = load_registry(SAMPLE_SITES)

    assert registry.problems == []
    kinds = [site.kind for site in registry]
    assert kinds.count(SiteKind.CITY_HALL) == 1
    assert 3 <= kinds.count(SiteKind.WARD_OFFICE) <= 4


def test_sample_registry_has_twenty_shelters_named_in_both_languages():
    shelters = load_registry(SAMPLE_SITES).shelters()

    assert len(shelters) >= 20
    for shelter in shelters:
        assert shelter.name_ja and shelter.name_en and shelter.kana
        assert 80 <= shelter.capacity <= 1500
        assert shelter.latitude is not None and shelter.longitude is not None


def test_row_problem_reads_as_file_line_column_and_message():
    problem = RowProblem("sites.csv", 14, "capacity", "'12a' is not a whole number")

    assert str(problem) == "sites.csv:14: column 'capacity': '12a' is not a whole number"
