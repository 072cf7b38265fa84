"""The frozen bundle's contents, checked without building it (a build takes a minute; CI's
``make package-check`` runs the real thing): every resource the code reads is listed in the spec,
no Qt module the code imports is excluded, the icons match their source, the desktop files agree
with each other, and the self-test passes from source.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import importlib.util
import re
import struct
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
SPEC = PACKAGING / "HandshakeDoctor.spec"
APP_SOURCES = ("core", "gui", "handshake_doctor")


def spec_literal(name: str) -> Any:
    """A module-level ``NAME = <literal>`` from the spec, read without running PyInstaller."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not a literal in {SPEC.name}")


def load_script(path: Path) -> ModuleType:
    """packaging/ is not a package (that name belongs to PyPI's ``packaging``): load by path."""
    spec = importlib.util.spec_from_file_location(f"_hsd_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def bundled(relpath: str) -> bool:
    return any(fnmatch.fnmatch(relpath, pattern) for pattern, _ in spec_literal("DATA_FILES"))


def app_modules() -> list[Path]:
    return sorted(p for top in APP_SOURCES for p in (REPO / top).rglob("*.py"))


def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- data files


def test_every_data_file_pattern_matches_and_lands_where_it_was() -> None:
    for pattern, dest in spec_literal("DATA_FILES"):
        assert sorted(REPO.glob(pattern)), f"{pattern} in the spec matches no file"
        # importlib.resources looks for resources/<name> next to the package in the bundle.
        assert dest == str(Path(pattern).parent), f"{pattern} would land in {dest}"


def test_every_file_under_resources_is_bundled_or_excluded_with_a_reason() -> None:
    not_bundled = spec_literal("NOT_BUNDLED")
    missing = []
    for path in sorted((REPO / "resources").rglob("*")):
        rel = path.relative_to(REPO).as_posix()
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in rel:
            continue
        if not bundled(rel) and rel not in not_bundled:
            missing.append(rel)
    assert missing == [], (
        f"add these to DATA_FILES in {SPEC.relative_to(REPO)} (or to NOT_BUNDLED with a reason): "
        f"{missing}"
    )


def _resource_reads(tree: ast.Module) -> list[str]:
    """Names passed to ``.joinpath(...)`` (string constants, module constants, f-strings as
    globs): how the app opens files through importlib.resources."""
    constants = {
        t.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "joinpath":
            continue
        parts = []
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                parts.append(arg.value)
            elif isinstance(arg, ast.Name) and arg.id in constants:
                parts.append(constants[arg.id])
            elif isinstance(arg, ast.JoinedStr):
                parts.append(
                    "".join(v.value if isinstance(v, ast.Constant) else "*" for v in arg.values)
                )
            else:
                parts.append("*")
        found.append("/".join(parts))
    return found


def test_every_resource_the_code_reads_is_in_the_spec() -> None:
    reads: dict[str, list[str]] = {}
    for path in app_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _resource_reads(tree):
            reads.setdefault(name, []).append(path.relative_to(REPO).as_posix())
    assert "catalogue.json" in reads, "the scan no longer sees how the catalogue is read"
    unlisted = {
        name: where
        for name, where in reads.items()
        if name.strip("*/") and not bundled(f"resources/{name}")
    }
    assert unlisted == {}, f"read through importlib.resources but not in DATA_FILES: {unlisted}"


def test_app_code_never_finds_data_by_file_path() -> None:
    """In a bundle, ``__file__`` points into a folder the data may not be in; importlib.resources
    always finds it (shared/style.md, qutebrowser's rule)."""
    offenders = []
    for path in app_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "__file__":
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_resources_is_a_hidden_import() -> None:
    # Nothing imports the package "resources" by name; importlib.resources needs it in the bundle.
    assert "resources" in spec_literal("HIDDEN_IMPORTS")
    assert (REPO / "resources" / "__init__.py").is_file()


def test_modules_imported_by_name_are_hidden_imports() -> None:
    """PyInstaller follows ``import x`` but not ``importlib.import_module("x")`` or
    ``find_spec("x")``: a module only reached that way would be missing from the bundle."""
    by_name: dict[str, str] = {}
    for path in app_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("import_module", "find_spec")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                by_name[node.args[0].value] = path.relative_to(REPO).as_posix()
    hidden = set(spec_literal("HIDDEN_IMPORTS"))
    missing = {name: where for name, where in by_name.items() if name not in hidden}
    assert missing == {}, f"add to HIDDEN_IMPORTS in {SPEC.name}: {missing}"


# --------------------------------------------------------------------------- Qt trimming


def _imported_modules() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in [*app_modules(), PACKAGING / "entry.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                found.setdefault(name, []).append(path.name)
    return found


def test_no_module_the_code_imports_is_excluded() -> None:
    excluded = set(spec_literal("EXCLUDED_MODULES"))
    clashes = {
        name: where
        for name, where in _imported_modules().items()
        if any(name == ex or name.startswith(ex + ".") for ex in excluded)
    }
    assert clashes == {}, f"imported by the app but excluded in the spec: {clashes}"


def test_the_window_can_start_on_every_desktop() -> None:
    keep = spec_literal("QT_PLUGINS_KEEP")
    for plugin in (
        "platforms/qxcb",
        "platforms/qwayland",
        "platforms/qwindows",
        "platforms/qcocoa",
        "platforms/qoffscreen",
        "imageformats/qsvg",
        "iconengines/qsvgicon",
        "styles/qmodernwindowsstyle",
    ):
        assert any(fnmatch.fnmatch(plugin, pat) for pat in keep), plugin


# --------------------------------------------------------------------------- icons


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_icons_exist_in_every_size() -> None:
    make_icons = load_script(PACKAGING / "make_icons.py")
    icons = REPO / "resources" / "icons"
    missing = [n for n in make_icons.expected_files() if not (icons / n).is_file()]
    assert missing == [], "run: python packaging/make_icons.py"
    for size in make_icons.ICON_SIZES:
        assert _png_size((icons / f"app-{size}.png").read_bytes()) == (size, size)

    ico = (icons / "app.ico").read_bytes()
    _, kind, count = struct.unpack("<HHH", ico[:6])
    sizes = [ico[6 + 16 * i] or 256 for i in range(count)]
    assert kind == 1 and sizes == list(make_icons.ICO_SIZES)

    icns = (icons / "app.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    offset, types = 8, {}
    while offset < len(icns):
        code, length = (
            icns[offset : offset + 4],
            struct.unpack(">I", icns[offset + 4 : offset + 8])[0],
        )
        types[code] = _png_size(icns[offset + 8 : offset + length])[0]
        offset += length
    assert types == dict(make_icons.ICNS_TYPES)


def test_icons_are_rendered_from_the_current_source(qapp: object) -> None:
    """Someone changed resources/app-icon.svg but did not run packaging/make_icons.py?"""
    from PySide6.QtGui import QImage

    make_icons = load_script(PACKAGING / "make_icons.py")
    fresh = make_icons.render((REPO / "resources" / "app-icon.svg").read_bytes(), 64)
    stored = QImage(str(REPO / "resources" / "icons" / "app-64.png")).convertToFormat(
        QImage.Format.Format_ARGB32
    )
    a, b = bytes(fresh.constBits()), bytes(stored.constBits())
    assert len(a) == len(b)
    mean_difference = sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)
    assert mean_difference < 2.0, "icons are stale: run python packaging/make_icons.py"


# --------------------------------------------------------------------------- desktop files


def test_desktop_entry_and_metainfo_agree() -> None:
    app_id = spec_literal("APP_ID")
    desktop = PACKAGING / f"{app_id}.desktop"
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(desktop, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == spec_literal("APP_NAME")
    assert entry["Icon"] == app_id
    assert entry["Categories"].endswith(";")

    root = ET.parse(PACKAGING / f"{app_id}.metainfo.xml").getroot()  # noqa: S314 - our own file
    assert root.findtext("id") == app_id
    assert root.findtext("launchable") == desktop.name
    assert root.findtext("name") == entry["Name"]
    versions = [r.get("version") for r in root.iter("release")]
    assert pyproject()["project"]["version"] in versions, "add a <release> for this version"


def test_entry_script_runs_the_same_main_as_the_source() -> None:
    tree = ast.parse((PACKAGING / "entry.py").read_text(encoding="utf-8"))
    imports = [
        (n.module, [a.name for a in n.names])
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
    ]
    assert ("handshake_doctor.main", ["run"]) in imports


def test_makefile_builds_the_tarball_the_readme_names() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "\npackage:" in makefile and "\npackage-check:" in makefile
    assert "HandshakeDoctor-$(VERSION)-linux-$(shell uname -m).tar.gz" in makefile
    assert "packaging/smoke.py dist/HandshakeDoctor/HandshakeDoctor" in makefile


# --------------------------------------------------------------------------- self-test


@pytest.mark.slow
def test_self_test_passes_from_source(qapp: object, capsys: pytest.CaptureFixture[str]) -> None:
    from gui.selftest import main

    code = main([])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "FAILED" not in out.out
    assert out.out.strip().splitlines()[-1].startswith("self-test passed")
    # The line packaging/smoke.py checks in the frozen app: which OS store, how many roots.
    store_line = smoke_module().os_store_line(out.out)
    assert re.match(r"os store: linux: \d+ trust anchors .*from ", store_line), store_line
    assert "OpenSSL" in smoke_module().os_verifier_line(out.out)


def smoke_module() -> Any:
    return load_script(REPO / "packaging" / "smoke.py")


def test_smoke_refuses_a_self_test_without_the_os_store_line() -> None:
    smoke = smoke_module()
    with pytest.raises(smoke.SmokeFailure, match="no `os store` line"):
        smoke.os_store_line("ok      roots: 117 Mozilla roots\nself-test passed in 0.8 s\n")
    with pytest.raises(smoke.SmokeFailure, match="no trust anchor"):
        smoke.os_store_line("ok      os store: linux: 0 trust anchors from nowhere (1 ms)\n")
    with pytest.raises(smoke.SmokeFailure, match="read the windows store"):
        smoke.os_store_line("ok      os store: windows: 60 trust anchors from ROOT (1 ms)\n")


def test_self_test_names_what_is_missing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gui.selftest as selftest

    def broken(ctx: object) -> str:
        raise selftest.StepFailed("resources/catalogue.json is missing")

    monkeypatch.setattr(selftest, "STEPS", (("catalogue", broken),))
    assert selftest.main([]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["self-test failed: catalogue: resources/catalogue.json is missing"]
