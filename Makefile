# Two commands do everything: `make run` opens the app, `make test` runs the checks.
# Both create .venv and install what is missing first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: ci-package run test lint typecheck pytest screenshots package package-check bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

sysdeps-run:
	@sh scripts/system-deps.sh run
sysdeps-test:
	@sh scripts/system-deps.sh test

run: sysdeps-run $(STAMP)
	$(BIN)/handshake-doctor $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check core gui handshake_doctor

typecheck: $(STAMP)
	$(BIN)/mypy

# mitmproxy (the intercepting proxy of the path tests) pins an older cryptography than ours, so it
# lives in a venv of its own; the tests find mitmdump through MITMDUMP.
MITM_VENV  := .venv-mitmproxy
MITM_STAMP := $(MITM_VENV)/.installed-11.0.2

$(MITM_STAMP):
	@test -x $(MITM_VENV)/bin/python || $(PYTHON) -m venv $(MITM_VENV)
	$(MITM_VENV)/bin/python -m pip install -q 'mitmproxy==11.0.2'
	@touch $@

pytest: sysdeps-test $(STAMP) $(MITM_STAMP)
	MITMDUMP=$(abspath $(MITM_VENV))/bin/mitmdump QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# On CI (CI=true) the test run also builds the double-clickable bundle and smoke-tests it.
test: lint typecheck pytest $(if $(CI),ci-package)

ci-package:
	$(MAKE) package
	$(MAKE) package-check

screenshots: sysdeps-test $(STAMP)
	xvfb-run -a -s "-screen 0 1400x1000x24" $(BIN)/python scripts/screenshots.py docs/screenshots

# ---------------------------------------------------------------- packaging (packaging/README.md)
# `make package`: dist/HandshakeDoctor/ (onedir; the README says how to build one file) and
# dist/HandshakeDoctor-<version>-linux-<arch>.tar.gz. `make package-check`: runs the frozen app.
APP_ID      := org.handshakedoctor.HandshakeDoctor
VERSION     := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' pyproject.toml | head -n 1)
TARBALL     := dist/HandshakeDoctor-$(VERSION)-linux-$(shell uname -m).tar.gz
PKG_STAMP   := $(VENV)/.package-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
ICON_SIZES  := 16 24 32 48 64 128 256 512

$(PKG_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[package]'
	@rm -f $(VENV)/.package-*
	@touch $@

package: sysdeps-run $(PKG_STAMP)
	$(BIN)/python packaging/make_icons.py --check
	rm -rf dist/HandshakeDoctor $(TARBALL)
	HANDSHAKE_DOCTOR_ONEFILE= QT_QPA_PLATFORM=offscreen $(BIN)/pyinstaller --noconfirm --clean --log-level WARN \
	    --distpath dist --workpath build/pyinstaller packaging/HandshakeDoctor.spec
	install -D -m 644 packaging/$(APP_ID).desktop dist/HandshakeDoctor/share/applications/$(APP_ID).desktop
	install -D -m 644 packaging/$(APP_ID).metainfo.xml dist/HandshakeDoctor/share/metainfo/$(APP_ID).metainfo.xml
	for n in $(ICON_SIZES); do install -D -m 644 resources/icons/app-$$n.png \
	    dist/HandshakeDoctor/share/icons/hicolor/$${n}x$${n}/apps/$(APP_ID).png || exit 1; done
	install -m 755 packaging/install-desktop-entry.sh dist/HandshakeDoctor/install-desktop-entry.sh
	tar -C dist --owner=0 --group=0 --numeric-owner -czf $(TARBALL) HandshakeDoctor
	@du -sh dist/HandshakeDoctor $(TARBALL)

package-check: sysdeps-run $(PKG_STAMP)
	@test -x dist/HandshakeDoctor/HandshakeDoctor || { echo "no dist/HandshakeDoctor: run make package first" >&2; exit 1; }
	$(BIN)/python packaging/smoke.py dist/HandshakeDoctor/HandshakeDoctor

bench: $(STAMP)
	for f in benchmarks/*.py; do echo "== $$f"; QT_QPA_PLATFORM=offscreen $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(MITM_VENV) build dist .mypy_cache .ruff_cache .pytest_cache
