"""``newsbeam report --html`` opened in headless Chromium: every chart draws,
offline. Skipped when Debian's chromium is not installed (``.ci/run``
installs it where it can)."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import SEEDS
from hostile import ARTICLE_EN
from pipeline.cli import main, run
from pipeline.report import CHARTS

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), None)
# Chromium as the machine's own probe starts it: no sandbox (root), and none of its
# background connections, which a closed network refuses.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--virtual-time-budget=15000"]


def _page(title: str, body: str) -> str:
    return (f"<html><head><title>{title} | Example</title></head><body><h1>{title}</h1>"
            + "".join(f"<p>{s}.</p>" for s in body.split(". ") if s.strip()) + "</body></html>")


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    """A report of an output with something in every chart: seeds (one story,
    one machine translation), pages of two sites on two days, a near-copy, a
    reject."""
    tmp = tmp_path_factory.mktemp("report")
    folder = tmp / "in"
    shutil.copytree(SEEDS, folder)
    other = ("Engineers finished the new bridge over the river on Monday after three years of work. The bridge "
             "carries two lanes of traffic and a cycle path. Residents said the crossing would cut their commute "
             "by twenty minutes. The project cost forty million euros and was paid for by the region.")
    records = [
        {"url": "https://www.example.com/news/budget", "published": "2024-03-05",
         "html": _page("Council approves budget", ARTICLE_EN * 2)},
        {"url": "https://news.example.org/bridge", "published": "2024-03-06", "html": _page("Bridge opens", other * 2)},
        {"url": "https://copy.example.net/budget", "published": "2024-03-06",
         "html": _page("Council approves budget", ARTICLE_EN * 2 + " Updated at noon.")},
    ]
    with open(folder / "pages.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
        f.write("{not json\n")
    out = str(tmp / "out")
    run(["--input", str(folder), "--output", out], quiet=True)
    page = tmp / "report.html"
    assert main(["report", out, "--html", str(page)]) == 0
    return page


def test_the_report_needs_no_network(report_page):
    """One file: no script, style sheet or image is fetched from anywhere."""
    import lxml.html

    tree = lxml.html.parse(str(report_page)).getroot()
    assert not tree.xpath("//script[@src] | //link[@href] | //img[@src] | //iframe")
    assert len(tree.xpath("//script")) == 2  # plotly.js, then the charts
    assert [d.get("id") for d in tree.xpath("//div[@class='newsbeam-chart']")] == [f"chart-{k}" for k, _ in CHARTS]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_every_chart_draws_in_headless_chromium(report_page, tmp_path):
    import lxml.html

    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          report_page.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    tree = lxml.html.fromstring(dom)
    for key, heading in CHARTS:
        (chart,) = tree.xpath(f"//div[@id='chart-{key}']")
        assert "js-plotly-plot" in chart.get("class", ""), f"{key}: plotly did not take the chart"
        assert chart.xpath(".//svg[contains(@class, 'main-svg')]"), f"{key}: no svg"
        bars = chart.xpath(".//g[contains(@class, 'point')]/path")
        assert bars, f"{key}: no bar drawn"
        title = " ".join(chart.xpath(".//*[contains(@class, 'gtitle')]//text()"))
        assert heading.split()[0] in title and "(none)" not in title, f"{key}: {title!r}"
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--window-size=1200,1600",
                    f"--screenshot={shot}", report_page.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000 and os.path.getsize(report_page) > 1_000_000
