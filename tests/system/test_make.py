"""`make test` sets up its own browser: Debian's Chromium via apt-get when run as root, otherwise a
one-line instruction and a non-zero exit before any test runs; `make test-fast` needs neither
Chromium nor Tesseract. apt-get is replaced by a stub that
records its arguments and "installs" a file, so nothing is installed here."""

import os
import stat
import subprocess
from pathlib import Path

from paths import ROOT


def make(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


def fake_apt(tmp_path: Path, chromium: Path) -> tuple[Path, Path]:
    calls = tmp_path / "calls"
    script = tmp_path / "apt-get"
    script.write_text(f"#!/bin/sh\necho \"$DEBIAN_FRONTEND $*\" >> {calls}\n"
                      f"case \"$1\" in install) printf '#!/bin/sh\\n' > {chromium}; chmod +x {chromium};; esac\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, calls


def test_as_root_a_missing_chromium_is_installed_with_apt(tmp_path):
    chromium = tmp_path / "chromium"
    apt, calls = fake_apt(tmp_path, chromium)
    r = make("chromium", f"CHROMIUM={chromium}", f"APT_GET={apt}", "UID_NOW=0")
    assert r.returncode == 0, r.stderr
    assert calls.read_text().splitlines() == ["noninteractive update -qq",
                                              "noninteractive install -y -qq chromium"]
    assert os.access(chromium, os.X_OK)
    # Present now: nothing more is installed.
    assert make("chromium", f"CHROMIUM={chromium}", f"APT_GET={apt}", "UID_NOW=0").returncode == 0
    assert len(calls.read_text().splitlines()) == 2


def test_without_root_it_says_how_and_stops_before_the_tests(tmp_path):
    chromium = tmp_path / "chromium"
    apt, calls = fake_apt(tmp_path, chromium)
    # `test` itself: it must fail at the browser check, before setup or pytest run.
    r = make("test", f"CHROMIUM={chromium}", f"APT_GET={apt}", "UID_NOW=1000", "PY=/bin/false")
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert lines == [f"error: the browser tests need {chromium}; install it with: sudo apt-get install "
                     "chromium (or run make test as root)"]
    assert not calls.exists() and not chromium.exists()
    assert "pytest" not in r.stdout


def test_a_failed_install_fails(tmp_path):
    chromium = tmp_path / "chromium"
    r = make("chromium", f"CHROMIUM={chromium}", "APT_GET=/bin/false", "UID_NOW=0")
    assert r.returncode != 0


def test_make_test_installs_tesseract_with_japanese_as_root_or_says_how(tmp_path):
    tesseract, font = tmp_path / "tesseract", tmp_path / "noto.ttc"
    calls = tmp_path / "calls"
    apt = tmp_path / "apt-get"
    apt.write_text(f"#!/bin/sh\necho \"$DEBIAN_FRONTEND $*\" >> {calls}\n"
                   f"case \"$1\" in install) printf '#!/bin/sh\\necho jpn\\necho jpn_vert\\n' > {tesseract}; "
                   f"chmod +x {tesseract}; : > {font};; esac\n")
    apt.chmod(apt.stat().st_mode | stat.S_IEXEC)
    args = (f"TESSERACT={tesseract}", f"NOTO_CJK={font}", f"APT_GET={apt}")
    r = make("tesseract", *args, "UID_NOW=1000")
    assert r.returncode != 0 and not calls.exists()
    assert [line for line in r.stderr.splitlines() if line.startswith("error:")] == [
        "error: the OCR tests need Tesseract; install it with: sudo apt-get install tesseract-ocr "
        "tesseract-ocr-jpn tesseract-ocr-jpn-vert fonts-noto-cjk (or run make test as root)"]
    r = make("tesseract", *args, "UID_NOW=0")
    assert r.returncode == 0, r.stderr
    assert calls.read_text().splitlines() == [
        "noninteractive update -qq",
        "noninteractive install -y -qq tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert fonts-noto-cjk"]
    assert make("tesseract", *args, "UID_NOW=0").returncode == 0  # present now: nothing more installed
    assert len(calls.read_text().splitlines()) == 2


def test_make_test_fast_needs_no_browser_and_no_ocr(tmp_path):
    chromium, tesseract = tmp_path / "chromium", tmp_path / "tesseract"
    apt, calls = fake_apt(tmp_path, chromium)
    py = tmp_path / "python"
    ran = tmp_path / "ran"
    py.write_text(f"#!/bin/sh\necho \"$*\" >> {ran}\n")
    py.chmod(py.stat().st_mode | stat.S_IEXEC)
    r = make("test-fast", f"CHROMIUM={chromium}", f"TESSERACT={tesseract}", f"APT_GET={apt}", "UID_NOW=0",
             f"PY={py}", f"STAMP={tmp_path / 'installed'}")
    assert r.returncode == 0, r.stderr
    assert not calls.exists() and not chromium.exists()
    assert ran.read_text().splitlines()[-1] == "-m pytest -m not slow and not browser and not ray and not ocr"
