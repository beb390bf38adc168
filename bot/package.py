"""Build the Teams app package: validate manifest/ and zip it for upload.

manifest/manifest.json holds a placeholder id and version. Packaging fills in the bot's
app id (MicrosoftAppId or --app-id) and `bot.__version__`, checks the result against the
official schema of its manifestVersion, the icons and the Japanese translations, and
writes a zip with every file at its root, the layout Teams accepts.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterator

from jsonschema import Draft4Validator
from PIL import Image

from bot import __version__
from bot.errors import BcpError, PackagingError
from bot.settings import REPO_DIR, Settings

MANIFEST_DIR = REPO_DIR / "manifest"
SCHEMA_DIR = REPO_DIR / "node_modules/@microsoft/app-manifest/build/json-schemas/teams"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
GUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}
COMMAND_KEY = re.compile(r"bots\[\d+\]\.commandLists\[\d+\]\.commands\[\d+\]\.(title|description)")

Json = dict[str, Any]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot package", description=__doc__)
    parser.add_argument("--app-id", help="the bot's Entra app id (default: MicrosoftAppId)")
    parser.add_argument("--out", type=Path, default=Path("build/bcp-board.zip"), help="zip path")
    parser.add_argument(
        "--allow-placeholder-id", action="store_true", help="all-zero id, for test packages only"
    )
    args = parser.parse_args(argv)

    try:
        app_id = Settings.from_env().app_id if args.app_id is None else args.app_id.strip()
        path = build(MANIFEST_DIR, args.out, app_id, args.allow_placeholder_id)
    except BcpError as error:
        print(f"Cannot package the Teams app: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


def build(manifest_dir: Path, out: Path, app_id: str, allow_placeholder_id: bool = False) -> Path:
    """Validate the manifest in manifest_dir, filled with app_id, and zip it to out.

    Raises:
        PackagingError: no usable app id, or a list of every problem found; no zip is
            written then.
    """
    manifest = read_json(manifest_dir / "manifest.json")
    manifest = fill_manifest(manifest, app_id, allow_placeholder_id)

    problems = validate(manifest_dir, manifest)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise PackagingError(f"{len(problems)} problem(s) in {manifest_dir}:\n{listed}")

    languages = manifest.get("localizationInfo", {}).get("additionalLanguages", [])
    files = [*manifest["icons"].values(), *(language["file"] for language in languages)]
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for name in files:
            archive.write(manifest_dir / name, name)
    return out


def fill_manifest(manifest: Json, app_id: str, allow_placeholder_id: bool = False) -> Json:
    """Return a copy of manifest carrying app_id as app and bot id, and this version."""
    if not app_id:
        if not allow_placeholder_id:
            raise PackagingError(
                "no app id. Set MicrosoftAppId to the bot's Microsoft Entra application "
                "(client) id, a GUID, or pass --app-id. --allow-placeholder-id builds a "
                "test package that Teams connects to no bot."
            )
        app_id = PLACEHOLDER_ID
    if not GUID.fullmatch(app_id):
        raise PackagingError(
            f"app id {app_id!r} (MicrosoftAppId or --app-id) is not a GUID. Use the "
            "application (client) id of the bot's Entra app registration."
        )

    filled = {**manifest, "id": app_id, "version": __version__}
    filled["bots"] = [{**bot, "botId": app_id} for bot in manifest.get("bots", [])]
    return filled


def validate(manifest_dir: Path, manifest: Json) -> list[str]:
    """Return every problem that would stop Teams accepting the package, or [].

    Raises:
        PackagingError: the schemas from npm are not installed.
    """
    if not SCHEMA_DIR.is_dir():
        raise PackagingError(
            f"the Teams manifest schemas are missing ({SCHEMA_DIR} not found). Run the "
            f"setup script, or `npm ci` in {REPO_DIR}, to install @microsoft/app-manifest."
        )
    version = manifest.get("manifestVersion")
    schema_dir = SCHEMA_DIR / f"v{version}"
    if not schema_dir.is_dir():
        shipped = ", ".join(sorted(p.name[1:] for p in SCHEMA_DIR.glob("v1.*")))
        return [f"manifest.json: manifestVersion {version!r} has no schema; use one of {shipped}"]

    problems = schema_problems("manifest.json", manifest, schema_dir / "MicrosoftTeams.schema.json")
    problems += icon_problems(manifest_dir, manifest.get("icons", {}))

    languages = manifest.get("localizationInfo", {}).get("additionalLanguages", [])
    if not any(language.get("languageTag", "").lower().startswith("ja") for language in languages):
        problems.append("manifest.json: localizationInfo lists no Japanese (ja) file")
    for language in languages:
        problems += language_problems(manifest_dir, language, manifest, schema_dir)
    return problems


def schema_problems(label: str, document: Json, schema_path: Path) -> list[str]:
    """Return one line per place where document breaks the JSON schema at schema_path."""
    # NOTE: Draft4Validator.check_schema rejects the official schemas from v1.23 on (a
    # `\p{L}` pattern that Python's re lacks), so the schema is used as published.
    validator = Draft4Validator(read_json(schema_path))
    errors = sorted(validator.iter_errors(document), key=lambda error: error.json_path)
    return [f"{label}: {error.json_path}: {error.message}" for error in errors]


def icon_problems(manifest_dir: Path, icons: Json) -> list[str]:
    """Return problems with the icon files: unreadable, wrong size, a bad outline."""
    problems = []
    for kind, size in ICON_SIZES.items():
        name = icons.get(kind)
        if not name:
            continue  # the schema reports the missing entry
        try:
            with Image.open(manifest_dir / name) as image:
                image_format, icon = image.format, image.convert("RGBA")
        except OSError as error:
            problems.append(f"{name}: cannot read the {kind} icon ({error})")
            continue

        if image_format != "PNG":
            problems.append(f"{name}: the {kind} icon is {image_format}; Teams needs a PNG")
        if icon.size != size:
            got, wanted = "x".join(map(str, icon.size)), "x".join(map(str, size))
            problems.append(f"{name}: the {kind} icon is {got}; Teams needs {wanted}")
        elif kind == "outline":
            problems += _outline_problems(name, icon)
    return problems


def _outline_problems(name: str, icon: Image.Image) -> list[str]:
    data = icon.tobytes()
    pixels = [tuple(data[i : i + 4]) for i in range(0, len(data), 4)]
    problems = []
    if all(alpha == 255 for *_, alpha in pixels):
        problems.append(f"{name}: the outline icon has no transparent background")
    coloured = sum(1 for *rgb, alpha in pixels if alpha and tuple(rgb) != (255, 255, 255))
    if coloured:
        problems.append(
            f"{name}: {coloured} visible pixels of the outline icon are not white; "
            "Teams needs a white (#FFFFFF) shape on transparency"
        )
    return problems


def language_problems(
    manifest_dir: Path, language: Json, manifest: Json, schema_dir: Path
) -> list[str]:
    """Return problems with one localization file: its schema and its command translations."""
    name, tag = language.get("file", ""), language.get("languageTag", "?")
    try:
        strings = read_json(manifest_dir / name)
    except PackagingError as error:
        return [str(error)]

    problems = []
    schema_path = schema_dir / "MicrosoftTeams.Localization.schema.json"
    if schema_path.is_file():
        problems += schema_problems(name, strings, schema_path)

    expected = dict(_command_strings(manifest))
    for key, (title, scopes) in expected.items():
        if not str(strings.get(key, "")).strip():
            problems.append(f"{name}: command {title!r} ({scopes}) has no {tag} text for {key}")
    for key in strings:
        if COMMAND_KEY.fullmatch(key) and key not in expected:
            problems.append(f"{name}: {key} translates a command manifest.json does not have")
    return problems


def _command_strings(manifest: Json) -> Iterator[tuple[str, tuple[str, str]]]:
    """Yield each command's localization keys with its English title and scopes."""
    for b, bot in enumerate(manifest.get("bots", [])):
        for c, command_list in enumerate(bot.get("commandLists", [])):
            scopes = "/".join(command_list.get("scopes", []))
            for n, command in enumerate(command_list.get("commands", [])):
                for field in ("title", "description"):
                    key = f"bots[{b}].commandLists[{c}].commands[{n}].{field}"
                    yield key, (command.get("title", ""), scopes)


def read_json(path: Path) -> Json:
    """Return the JSON object in path; raise PackagingError naming the file otherwise."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise PackagingError(f"{path.name} is missing ({path})") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PackagingError(f"{path.name} is not valid JSON: {error}") from error
