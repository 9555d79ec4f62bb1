"""The report as a user meets it: the progress display on a terminal, and the --report files
written by the real CLI, the HTML one opened in a real (headless) browser."""
from __future__ import annotations

import html
import io
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from corrcheck.report import sections as report

ROOT = Path(__file__).resolve().parents[1]
SEED = "examples/seed_buggy.py"
REPRODUCE = "corrcheck run examples/seed_buggy.py --stride 2 --pad 1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = (1200, 3000)


# ---------------------------------------------------------------- progress

def _terminal() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(force_terminal=True, file=buffer, width=100, color_system=None), buffer


def _frames(raw: str) -> list[str]:
    """What the terminal showed, frame by frame: split at carriage returns, ANSI codes removed."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)
    return [f.strip() for f in re.split(r"[\r\n]", plain) if f.strip()]


def test_counted_steps_draw_a_bar_with_m_of_n_and_elapsed_time():
    console, buffer = _terminal()
    with report.progress_reporter(console=console) as progress:
        for i in range(5):
            progress(f"sweep: {i}/4 configurations", completed=i, total=4)
    frames = _frames(buffer.getvalue())
    bars = [f for f in frames if "━" in f]
    assert bars, frames
    assert any(re.search(r"sweep: configurations .*━.* 2/4 \d+:\d\d:\d\d$", f) for f in bars), bars
    assert re.search(r" 4/4 \d+:\d\d:\d\d$", bars[-1])
    assert not any("2/4 configurations" in f for f in bars)     # the count shows once, in its column


def test_plain_messages_keep_the_spinner_and_follow_a_bar():
    console, buffer = _terminal()
    with report.progress_reporter(console=console) as progress:
        progress("binding functions")
        progress("sweep: 1/2 configurations", completed=1, total=2)
        progress("searching for a fix")
    frames = _frames(buffer.getvalue())
    assert any(f.endswith("binding functions") and "━" not in f for f in frames)
    assert any(f.endswith("searching for a fix") and "━" not in f for f in frames)
    assert any("1/2" in f and "━" in f for f in frames)


def test_progress_is_silent_off_a_terminal_even_with_counts():
    buffer = io.StringIO()
    with report.progress_reporter(console=Console(file=buffer)) as progress:
        progress("binding functions")
        progress("sweep: 1/3 configurations", completed=1, total=3)
    assert buffer.getvalue() == ""


def test_progress_is_taken_down_when_the_check_raises():
    console, buffer = _terminal()
    with pytest.raises(KeyboardInterrupt):
        with report.progress_reporter(console=console) as progress:
            progress("sweep: 1/3 configurations", completed=1, total=3)
            raise KeyboardInterrupt
    with console.status("next"):                 # Rich allows one live display: this raises if ours is left
        pass
    raw = buffer.getvalue()
    assert raw.rfind("\x1b[?25h") > raw.rfind("━")  # the cursor is shown again after the last bar


def test_disabled_progress_draws_nothing_on_a_terminal():
    console, buffer = _terminal()
    with report.progress_reporter(enabled=False, console=console) as progress:
        progress("sweep: 1/3 configurations", completed=1, total=3)
    assert buffer.getvalue() == ""


# ---------------------------------------------------------------- --report files from the CLI

@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """`corrcheck run examples/seed_buggy.py --stride 2 --pad 1 --report out.<kind>`, once per kind."""
    out = tmp_path_factory.mktemp("reports")
    paths = {}
    for kind in ("html", "svg", "txt"):
        path = out / f"out.{kind}"
        done = subprocess.run([sys.executable, "-m", "corrcheck", "run", SEED, "--stride", "2", "--pad", "1",
                               "--report", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stderr     # the seed is buggy: a failed check, not an error
        assert "Traceback" not in done.stderr
        paths[kind] = path
    return paths


def _text_of_svg(svg: str) -> str:
    """The SVG's words: each line is <text> elements, spaces written as &#160;."""
    return html.unescape(re.sub(r"<[^>]+>", "", svg.replace("&#160;", " ")))


def test_txt_report_holds_diagnosis_and_reproduce_command(reports):
    text = reports["txt"].read_text(encoding="utf-8")
    assert "\x1b[" not in text
    assert "forward: filter-indexed-by-output" in text
    assert f"command: {REPRODUCE}" in text                  # one line, copyable
    assert text.rstrip().splitlines()[-1].startswith("FAIL: forward disagrees with the reference")


def test_svg_report_holds_diagnosis_and_reproduce_command_inside_its_frame(reports):
    svg = reports["svg"].read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg") and "cdnjs" not in svg and "url(" not in svg.split("</style>")[0]
    text = _text_of_svg(svg)
    assert "filter-indexed-by-output" in text and REPRODUCE in text
    # the frame clips at 100 columns: no line of the picture may be longer
    rows = [html.unescape(r.replace("&#160;", " ")) for r in re.findall(r'<text [^>]*>([^<]*)</text>', svg)]
    assert rows and max(len(r) for r in rows) <= 100


def test_html_report_is_a_self_contained_page(reports):
    page = reports["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>corrcheck report</title>" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched when it is opened
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "filter-indexed-by-output" in text and REPRODUCE in text


# ---------------------------------------------------------------- the HTML in a real browser

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

LAYOUT_PROBE = """<script>
const pre = document.querySelector("pre");
document.body.dataset.scrollWidth = document.documentElement.scrollWidth;
document.body.dataset.clientWidth = document.documentElement.clientWidth;
document.body.dataset.preHeight = pre.getBoundingClientRect().height;
const one = document.createElement("pre");
one.className = pre.className;
one.textContent = "x";
document.body.appendChild(one);
document.body.dataset.lineHeight = one.getBoundingClientRect().height;
one.remove();
</script>
</body>"""


def _chromium(tmp_path: Path, url: str, *extra: str, window=WINDOW) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}", *extra, url],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _png(data: bytes) -> tuple[int, int, np.ndarray]:
    """Width, height and the filtered scanlines (height x width x bytes per pixel) of a PNG, with zlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, color = header
    assert depth == 8
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), np.uint8).reshape(height, 1 + width * bpp)
    return width, height, raw[:, 1:].reshape(height, width, bpp)


def _rows_with_content(scanlines: np.ndarray) -> np.ndarray:
    """Rows that are not one flat colour.

    Every PNG row filter (none, sub, up, average, paeth) turns a row of one colour under
    a row of one colour into identical bytes per pixel, so a row whose filtered pixels
    differ from its first pixel holds something drawn; no full decoding needed.
    """
    return (scanlines[:, 1:] != scanlines[:, :1]).any(axis=(1, 2))


@needs_chromium
def test_html_report_renders_in_a_browser(reports, tmp_path):
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, reports["html"].as_uri(), f"--screenshot={shot}")
    width, height, scanlines = _png(shot.read_bytes())
    assert (width, height) == WINDOW
    content = np.flatnonzero(_rows_with_content(scanlines))
    assert content.size > 600, content.size             # lines of text, not a blank or error page
    assert 900 < content.max() < height - 50             # the whole report, long but within the window
    assert content.min() < 60                            # starting at the top


@needs_chromium
def test_html_report_dom_has_diagnosis_and_summary_table(reports, tmp_path):
    dom = _chromium(tmp_path, reports["html"].as_uri(), "--dump-dom")
    text = html.unescape(re.sub(r"<[^>]+>", "", dom))
    assert "forward: filter-indexed-by-output" in text
    header = next(line for line in text.splitlines() if line.startswith("target"))
    assert re.fullmatch(r"target\s+┃ against\s+┃ status ┃ max abs error ┃\s+mismatched", header)
    assert re.search(r"^forward\s+│ reference\s+│ FAIL\s+│", text, re.M)
    assert text.rstrip().endswith("at 6 / 6 entries")   # the verdict line, last


@needs_chromium
@pytest.mark.parametrize("window", [(1200, 800), (640, 800)])
def test_html_report_fits_the_window_without_sideways_scrolling(reports, tmp_path, window):
    probe = tmp_path / "probe.html"
    probe.write_text(reports["html"].read_text(encoding="utf-8").replace("</body>", LAYOUT_PROBE, 1),
                     encoding="utf-8")
    dom = _chromium(tmp_path, probe.as_uri(), "--dump-dom", window=window)
    layout = {k: float(v) for k, v in re.findall(r'data-([a-z-]+)="([\d.]+)"', dom)}
    assert layout["scroll-width"] <= layout["client-width"], layout
    lines = len(reports["html"].read_text(encoding="utf-8").split("<code")[1].splitlines())
    # in lines of text: 100-column lines never wrap (the font shrinks instead); only the longer
    # verdict and commands do, so the page is at most a few lines taller than the report
    rendered = layout["pre-height"] / layout["line-height"]
    assert lines - 2 <= rendered <= lines + 6, (rendered, lines, layout)
