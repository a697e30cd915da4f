"""The report page: self-contained (nothing loaded from elsewhere), a real title, contents with one anchor per
artifact, every thesis table beside the published one, no logs or text dumps; and, in a real browser
(Debian's Chromium through Selenium), no horizontal overflow and no request leaving the file."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lib.analysis.build import STANDIN_LABEL
from lib.analysis.registry import artifact_ids
from lib.vocab import CHAPTERS
from lib.analysis.html_report import TITLE, build_report
from lib.analysis.reference import SOURCES, thesis_table
from tests.test_analysis_notebooks import record
from tests.test_lab_browser import _chromium, chromium_paths  # noqa: F401  (a fixture)


class Page(HTMLParser):
    """What the tests read off the page: ids, links, loaded URLs, tags, the title, image alt texts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids, self.toc, self.urls, self.tags, self.alts, self.title = [], [], [], [], [], ""
        self._in_title = self._in_nav = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.ids += [a["id"]] if "id" in a else []
        self._in_title |= tag == "title"
        self._in_nav |= tag == "nav"
        if tag == "a" and self._in_nav and a.get("href", "").startswith("#"):
            self.toc.append(a["href"][1:])
        self.urls += [a[k] for k in ("src", "href") if k in a and not a[k].startswith("#")]
        if tag == "img":
            self.alts.append(a.get("alt", ""))

    def handle_endtag(self, tag):
        self._in_title &= tag != "title"
        self._in_nav &= tag != "nav"

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _tiny_archive(root: Path) -> Path:
    """Clean CIFAR AdamW and AEES, two seeds each, of a stand-in profile: most artifacts have no runs."""
    for seed in (0, 1):
        for name, kw in (("adamw", {}), ("aees", {"mode": "adaptive", "lr": (0.5, 1, 2)})):
            rec = record(seed, best=0.3 + seed / 100, final=0.25, peak=3, epochs=4, profile="mini", **kw)
            root.mkdir(parents=True, exist_ok=True)
            (root / f"{name}_{seed}.json").write_text(json.dumps(rec))
    return root


def check_page(text: str) -> Page:
    page = Page(text)
    ids = artifact_ids()
    assert page.title == TITLE and "Notebook" not in page.title
    assert page.toc[:1] == [f"chapter-{CHAPTERS[0]}"]
    assert [t for t in page.toc if not t.startswith("chapter-")] == [a for c in CHAPTERS for a in artifact_ids(c)]
    assert sorted(t for t in page.toc if not t.startswith("chapter-")) == sorted(ids)  # one entry per artifact
    assert len(page.ids) == len(set(page.ids)) and set(ids) <= set(page.ids)  # one anchor each, no clash
    assert all(u.startswith("data:image/png;base64,") for u in page.urls), [u[:60] for u in page.urls][:5]
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert not re.search(r"https?://|url\(|@import", text)  # nothing to fetch, not even from CSS
    assert "pre" not in page.tags  # no text dumps
    assert not re.search(r"\b(ok|partial), \d+ runs? ->|missing-runs\)|\bprint\(", text)  # no log lines
    in_order = [a for c in CHAPTERS for a in artifact_ids(c)]
    assert all(page.alts)
    assert re.findall(r"<caption>(\w+) as published in the thesis", text) == [a for a in in_order if a in SOURCES]
    return page


def test_thesis_tables_in_the_shape_of_the_archive_tables() -> None:
    t4 = thesis_table("T4")
    assert list(t4.columns) == ["Group", "Method", "$n$", "Best (%)", "Final (%)", "Drop (pp)", "Peak epoch"]
    assert t4["Group"].tolist()[:5] == ["asym20 AdamW", "", "", "", "asym20 SGD"] and t4.attrs["midrule_before"] == [4]
    assert t4.iloc[1].tolist()[1:4] == ["AEES", "5", "61.7 $\\pm$ 0.7"]  # INVENTORY: asym20 AdamW AEES 61.7
    t13 = thesis_table("T13")  # one number per row published: one row per task and optimizer
    assert t13.shape == (4, 6) and t13.iloc[1].tolist()[:3] == ["CIFAR-100 AdamW", "4.58", "0.5"]
    assert thesis_table("T14")["Method"].tolist()[:3] == ["Baseline", "Cosine", "AEES-LR"]  # not baseline_cosine


def test_report_self_contained_titled_with_contents(tmp_path: Path) -> None:
    lines = []
    path = build_report(str(_tiny_archive(tmp_path / "arch")), str(tmp_path / "out"), echo=lines.append)
    assert path == tmp_path / "out" / "report.html"
    assert [line.split(":")[0] for line in lines] == list(CHAPTERS)  # one line per chapter
    assert re.fullmatch(r"claims: 1 artifacts \(.*\) in \d+\.\d s", lines[0])  # the claims first
    assert re.fullmatch(r"cifar_clean: 6 artifacts \(.*\) in \d+\.\d s", lines[1])
    text = path.read_text()
    page = check_page(text)
    assert STANDIN_LABEL in text and len(page.alts) >= 2  # F2, F3 drawn from the two methods
    assert (tmp_path / "out" / "reproduction" / "reproduction.csv").is_file()
    assert "No runs for this table in this archive." in text  # T4: the published table stands alone


@pytest.mark.slow
def test_report_in_chromium_no_overflow_no_request(chromium_paths, tmp_path: Path) -> None:  # noqa: F811
    """The report of the committed mini archive (~1 min to build) in headless Chromium at 1280 px: no
    horizontal scrolling, no table wider than its column, every figure decoded, nothing requested beyond
    the file and its data URIs; a screenshot is kept in the test's temporary directory."""
    path = build_report("results/mini", str(tmp_path / "out"), echo=lambda line: None)
    check_page(path.read_text())
    binary, driver = chromium_paths
    browser = _chromium(binary, driver, tmp_path / "profile", logging=True, size="1280,900")
    try:
        browser.get(path.as_uri())
        state = browser.execute_script("""
            const d = document.documentElement;
            const boxes = [...document.querySelectorAll('.table-box')];
            const imgs = [...document.images];
            return {scroll: d.scrollWidth, client: d.clientWidth, title: document.title,
                    wide: boxes.filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.textContent.slice(0, 60)),
                    images: imgs.length, decoded: imgs.filter(i => i.complete && i.naturalWidth > 100).length,
                    overflowing: imgs.filter(i => i.getBoundingClientRect().right > d.clientWidth + 1).length};""")
        browser.execute_script("document.getElementById('T1').scrollIntoView()")
        browser.save_screenshot(str(tmp_path / "report.png"))
        sent = [m["params"] for m in (json.loads(e["message"])["message"] for e in browser.get_log("performance"))
                if m["method"] == "Network.requestWillBeSent"]
    finally:
        browser.quit()
    assert state["scroll"] <= state["client"], state
    assert state["wide"] == [] and state["overflowing"] == 0, state
    assert state["title"] == TITLE and state["images"] == state["decoded"] > 10
    # the page's own requests: the file and its data URIs; the browser's (chrome:// pages) never leave it either
    page = [p["request"]["url"] for p in sent if p.get("documentURL") == path.as_uri()]
    assert page and all(u.startswith(("file://", "data:")) for u in page), sorted({u[:60] for u in page})
    network = [p["request"]["url"] for p in sent if re.match(r"(https?|wss?|ftp)://", p["request"]["url"])]
    assert network == [], network[:5]
    assert (tmp_path / "report.png").stat().st_size > 10_000
