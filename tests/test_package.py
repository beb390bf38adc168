"""The Teams app package: what the zip holds, and each check that stops a broken one."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image

import bot
from bot import package
from bot.errors import PackagingError

APP_ID = "1b4a2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MicrosoftAppId", raising=False)


@pytest.fixture
def manifest_dir(tmp_path: Path) -> Path:
    """Return a copy of manifest/ that a test may break."""
    return Path(shutil.copytree(package.MANIFEST_DIR, tmp_path / "manifest"))


def edit_json(path: Path, change) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def problems_of(manifest_dir: Path, tmp_path: Path) -> str:
    out = tmp_path / "out" / "app.zip"
    with pytest.raises(PackagingError) as caught:
        package.build(manifest_dir, out, APP_ID)
    assert not out.exists()
    return str(caught.value)


def test_repository_manifest_has_no_problems() -> None:
    manifest = package.read_json(package.MANIFEST_DIR / "manifest.json")

    filled = package.fill_manifest(manifest, APP_ID)

    assert package.validate(package.MANIFEST_DIR, filled) == []


def test_zip_holds_manifest_translation_and_icons_at_its_root(tmp_path: Path) -> None:
    out = package.build(package.MANIFEST_DIR, tmp_path / "app.zip", APP_ID)

    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        with archive.open("outline.png") as outline:
            outline_size = Image.open(outline).size

    assert names == ["color.png", "ja.json", "manifest.json", "outline.png"]
    assert manifest["id"] == APP_ID
    assert [entry["botId"] for entry in manifest["bots"]] == [APP_ID]
    assert manifest["version"] == bot.__version__
    assert outline_size == (32, 32)


def test_main_takes_the_app_id_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    out = tmp_path / "build" / "bcp-board.zip"

    assert package.main(["--out", str(out)]) == 0

    assert str(out) in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("manifest.json"))["id"] == APP_ID


def test_main_without_an_app_id_fails_and_names_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bcp-board.zip"

    assert package.main(["--out", str(out)]) == 1

    assert "Set MicrosoftAppId" in capsys.readouterr().err
    assert not out.exists()


def test_placeholder_id_is_packaged_only_when_allowed(tmp_path: Path) -> None:
    out = tmp_path / "bcp-board.zip"

    assert package.main(["--out", str(out), "--allow-placeholder-id"]) == 0

    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("manifest.json"))["id"] == package.PLACEHOLDER_ID


def test_app_id_that_is_not_a_guid_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert package.main(["--app-id", "my-bot", "--out", str(tmp_path / "app.zip")]) == 1

    assert "app id 'my-bot' (MicrosoftAppId or --app-id) is not a GUID" in capsys.readouterr().err


def test_wrong_size_color_icon_is_named(manifest_dir: Path, tmp_path: Path) -> None:
    Image.new("RGB", (100, 100), (11, 122, 69)).save(manifest_dir / "color.png")

    assert "color.png: the color icon is 100x100; Teams needs 192x192" in problems_of(
        manifest_dir, tmp_path
    )


def test_opaque_outline_icon_is_refused(manifest_dir: Path, tmp_path: Path) -> None:
    Image.new("RGBA", (32, 32), (255, 255, 255, 255)).save(manifest_dir / "outline.png")

    assert "outline.png: the outline icon has no transparent background" in problems_of(
        manifest_dir, tmp_path
    )


def test_coloured_outline_icon_is_refused(manifest_dir: Path, tmp_path: Path) -> None:
    icon = Image.open(manifest_dir / "outline.png").convert("RGBA")
    icon.putpixel((16, 16), (11, 122, 69, 255))
    icon.save(manifest_dir / "outline.png")

    assert "outline.png: 1 visible pixels of the outline icon are not white" in problems_of(
        manifest_dir, tmp_path
    )


def test_icon_that_is_not_an_image_is_named(manifest_dir: Path, tmp_path: Path) -> None:
    (manifest_dir / "color.png").write_text("not a picture")

    assert "color.png: cannot read the color icon" in problems_of(manifest_dir, tmp_path)


def test_command_missing_in_japanese_is_named(manifest_dir: Path, tmp_path: Path) -> None:
    key = "bots[0].commandLists[1].commands[3].title"
    edit_json(manifest_dir / "ja.json", lambda strings: strings.pop(key))

    problems = problems_of(manifest_dir, tmp_path)

    assert f"ja.json: command 'board here' (team) has no ja text for {key}" in problems


def test_japanese_command_missing_in_english_is_named(manifest_dir: Path, tmp_path: Path) -> None:
    key = "bots[0].commandLists[0].commands[11].title"
    edit_json(manifest_dir / "ja.json", lambda strings: strings.update({key: "ここにボード"}))

    problems = problems_of(manifest_dir, tmp_path)

    assert f"ja.json: {key} translates a command manifest.json does not have" in problems


def test_manifest_that_breaks_the_schema_is_named(manifest_dir: Path, tmp_path: Path) -> None:
    def break_manifest(manifest: dict) -> None:
        manifest["name"]["short"] = "BCP Board for shelters, staff and HQ"
        del manifest["developer"]["privacyUrl"]

    edit_json(manifest_dir / "manifest.json", break_manifest)

    problems = problems_of(manifest_dir, tmp_path)

    assert "manifest.json: $.name.short: 'BCP Board for shelters, staff and HQ' is too long" in (
        problems
    )
    assert "manifest.json: $.developer: 'privacyUrl' is a required property" in problems


def test_localization_that_breaks_its_schema_is_named(manifest_dir: Path, tmp_path: Path) -> None:
    edit_json(manifest_dir / "ja.json", lambda strings: strings.pop("description.short"))

    problems = problems_of(manifest_dir, tmp_path)

    assert "ja.json: $: 'description.short' is a required property" in problems


def test_manifest_without_japanese_is_refused(manifest_dir: Path, tmp_path: Path) -> None:
    edit_json(manifest_dir / "manifest.json", lambda manifest: manifest.pop("localizationInfo"))

    assert "localizationInfo lists no Japanese (ja) file" in problems_of(manifest_dir, tmp_path)


def test_unknown_manifest_version_lists_the_shipped_ones(
    manifest_dir: Path, tmp_path: Path
) -> None:
    edit_json(manifest_dir / "manifest.json", lambda m: m.update(manifestVersion="1.18"))

    problems = problems_of(manifest_dir, tmp_path)

    assert "manifestVersion '1.18' has no schema; use one of" in problems
    assert "1.22" in problems


def test_missing_node_modules_says_how_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package, "SCHEMA_DIR", tmp_path / "node_modules" / "missing")

    with pytest.raises(PackagingError, match=r"npm ci.*@microsoft/app-manifest"):
        package.build(package.MANIFEST_DIR, tmp_path / "app.zip", APP_ID)
