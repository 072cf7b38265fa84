#!/usr/bin/env python3
"""Build the double-clickable bundle on Windows or macOS, as CI does (workflows/bundles.yml).

    python packaging/build_bundle.py                       # on Windows or macOS
    python packaging/build_bundle.py --github-output FILE  # also write executable= and artefact=

Windows: PyInstaller's onedir folder (HandshakeDoctor.exe, HandshakeDoctor-cli.exe, _internal\\)
zipped as dist/HandshakeDoctor-<version>-windows-<arch>.zip.
macOS: dist/HandshakeDoctor.app, ad-hoc signed again (``codesign --force --deep -s -``) and
verified (``codesign --verify --deep --strict``), its Info.plist checked (bundle id, version,
icon), then put in dist/HandshakeDoctor-<version>-macos-<arch>.dmg (``hdiutil create``,
``hdiutil verify``).
Linux is built by ``make package`` (the tarball with the desktop entry); this script refuses it.

Prints the executable to smoke-test (packaging/smoke.py) and the artefact to keep. Each outside
command is printed before it runs; the first that fails ends the build with its exit status.
"""

from __future__ import annotations

import argparse
import os
import platform
import plistlib
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "dist"
APP_NAME = "HandshakeDoctor"
APP_ID = "org.handshakedoctor.HandshakeDoctor"


class BuildError(Exception):
    pass


def version() -> str:
    data = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    return str(data["project"]["version"])


def arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x64", "x86_64": "x64", "aarch64": "arm64"}.get(machine, machine)


def run(argv: Sequence[str], **env: str) -> None:
    print("+ " + " ".join(argv), flush=True)
    done = subprocess.run(list(argv), cwd=REPO, env={**os.environ, **env}, check=False)
    if done.returncode != 0:
        raise BuildError(f"`{argv[0]}` exited {done.returncode}")


def run_retrying(argv: Sequence[str], tries: int = 3, pause: float = 5.0) -> None:
    for attempt in range(1, tries + 1):
        try:
            run(argv)
            return
        except BuildError:
            if attempt == tries:
                raise
            print(f"build_bundle: try {attempt} failed; again in {pause:.0f} s", flush=True)
            time.sleep(pause)


def pyinstaller() -> None:
    run([sys.executable, str(REPO / "packaging" / "make_icons.py"), "--check"])
    for folder in (DIST / APP_NAME, DIST / f"{APP_NAME}.app"):
        shutil.rmtree(folder, ignore_errors=True)
    run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(REPO / "build" / "pyinstaller"),
            str(REPO / "packaging" / "HandshakeDoctor.spec"),
        ],
        HANDSHAKE_DOCTOR_ONEFILE="",
        QT_QPA_PLATFORM="offscreen",
    )


def windows() -> tuple[Path, Path]:
    pyinstaller()
    folder = DIST / APP_NAME
    for exe in (f"{APP_NAME}.exe", f"{APP_NAME}-cli.exe"):
        if not (folder / exe).is_file():
            raise BuildError(f"PyInstaller made no {folder / exe}")
    base = DIST / f"{APP_NAME}-{version()}-windows-{arch()}"
    archive = Path(shutil.make_archive(str(base), "zip", root_dir=DIST, base_dir=APP_NAME))
    return folder / f"{APP_NAME}-cli.exe", archive


def check_info_plist(app: Path) -> None:
    with (app / "Contents" / "Info.plist").open("rb") as handle:
        info = plistlib.load(handle)
    wanted = {
        "CFBundleIdentifier": APP_ID,
        "CFBundleShortVersionString": version(),
        "CFBundleExecutable": APP_NAME,
    }
    for key, value in wanted.items():
        if info.get(key) != value:
            raise BuildError(f"Info.plist {key} is {info.get(key)!r}, expected {value!r}")
    icon = info.get("CFBundleIconFile", "")
    if not (app / "Contents" / "Resources" / icon).is_file():
        raise BuildError(f"Info.plist names the icon {icon!r}, which is not in the bundle")


def macos() -> tuple[Path, Path]:
    pyinstaller()
    app = DIST / f"{APP_NAME}.app"
    check_info_plist(app)
    # PyInstaller signs ad hoc already; signing again here makes the step explicit and fails
    # loudly if anything in the bundle cannot be signed. "-" is the ad-hoc identity: no Apple
    # certificate, so Gatekeeper still asks (see packaging/README.md).
    run(["codesign", "--force", "--deep", "--sign", "-", str(app)])
    run(["codesign", "--verify", "--deep", "--strict", "--verbose=2", str(app)])
    dmg = DIST / f"{APP_NAME}-{version()}-macos-{arch()}.dmg"
    dmg.unlink(missing_ok=True)
    # hdiutil on CI runners now and then fails with "Resource busy" while Spotlight or an
    # antivirus scan still holds the fresh .app; a second try a few seconds later succeeds.
    run_retrying(
        [
            "hdiutil",
            "create",
            "-volname",
            "Handshake Doctor",
            "-srcfolder",
            str(app),
            "-ov",
            "-format",
            "UDZO",
            str(dmg),
        ]
    )
    run(["hdiutil", "verify", str(dmg)])
    return app / "Contents" / "MacOS" / APP_NAME, dmg


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--github-output", type=Path, help="append executable= and artefact=")
    args = parser.parse_args(argv)
    try:
        if sys.platform == "win32":
            executable, artefact = windows()
        elif sys.platform == "darwin":
            executable, artefact = macos()
        else:
            print("build_bundle: on Linux, run `make package` (the tarball)", file=sys.stderr)
            return 2
    except BuildError as exc:
        print(f"build_bundle: {exc}", file=sys.stderr)
        return 1
    size = artefact.stat().st_size / 1e6
    print(f"executable: {executable}\nartefact: {artefact} ({size:.0f} MB)")
    if args.github_output is not None:
        with args.github_output.open("a", encoding="utf-8") as out:
            out.write(f"executable={executable.as_posix()}\nartefact={artefact.as_posix()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
