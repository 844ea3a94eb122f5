"""Headless Chromium for the report: render the page to a PNG, or read back the DOM it built.

`python -m accord.gold.browser` installs Debian's `chromium` package when it is
missing (as root, through apt-get); it does nothing when a Chromium is already on PATH.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from accord.gold.errors import ReportRenderError

log = logging.getLogger(__name__)

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


def find_chromium() -> Path | None:
    """The first Chromium-family browser on PATH, or None."""
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def ensure_chromium() -> Path:
    """Return a Chromium, installing Debian's package first when none is on PATH.

    Raises:
        ReportRenderError: no Chromium, and it cannot be installed here (not root, no apt-get).
    """
    found = find_chromium()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ReportRenderError(
            "headless Chromium is needed to render the report: install it "
            "(Debian/Ubuntu: `sudo apt-get install chromium`) and run again"
        )
    log.info("installing chromium with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise ReportRenderError(f"`{' '.join(command)}` failed:\n{result.stderr[-2000:]}")
    found = find_chromium()
    if found is None:
        raise ReportRenderError("apt-get installed chromium, but no chromium is on PATH")
    return found


def _run(args: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    browser = ensure_chromium()
    with tempfile.TemporaryDirectory(prefix="accord-chromium-") as profile:
        command = [str(browser), *_FLAGS, f"--user-data-dir={profile}", *args]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ReportRenderError(f"chromium did not finish within {timeout_s:.0f}s") from exc
    if result.returncode != 0:
        raise ReportRenderError(f"chromium exited with {result.returncode}:\n{result.stderr[-2000:]}")
    return result


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 1000, timeout_s: float = 120) -> Path:
    """Render `page` (an HTML file) in headless Chromium and save what it shows as `png`."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [f"--screenshot={png.resolve()}", f"--window-size={width},{height}", page.resolve().as_uri()],
        timeout_s,
    )
    if not png.exists():
        raise ReportRenderError(f"chromium wrote no screenshot of {page}")
    return png


def rendered_dom(page: Path, timeout_s: float = 120) -> str:
    """The DOM Chromium built from `page`, serialised as HTML."""
    return _run(["--dump-dom", page.resolve().as_uri()], timeout_s).stdout


if __name__ == "__main__":
    print(ensure_chromium())
    sys.exit(0)
