"""The report and the dbt docs site in a real browser: headless Chromium (Debian's package)
driven by Playwright. Pages are opened from disk with every non-file request refused, so
anything that needs a network shows up as a console error. Screenshots (1366x768) are saved
under build/screenshots/ for CI to keep."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, Workspace, run_dbt, run_ingest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = PROJECT_ROOT / "build" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (`apt-get install chromium`; .ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def site(demo_lake: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    # docs generate writes dbt's target directory: a copy of the shared lake's workspace
    ws = demo_lake.copy(tmp_path_factory.mktemp("browser") / "ws")
    run_dbt(ws, "docs", "generate", "--static")
    run_ingest(ws, "report", "--out", str(ws.root / "report"))
    return ws


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                # dbt docs loads its SVG icons by file URL from the page it is in
                "--allow-file-access-from-files",
            ],
        )  # fmt: skip
        yield browser
        browser.close()


class Page:
    """A page at 1366x768 that records console errors and refuses the network."""

    def __init__(self, browser, url: str) -> None:
        self.errors: list[str] = []
        self.refused: list[str] = []
        self.missing: list[str] = []
        self.page = browser.new_page(viewport={"width": 1366, "height": 768})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("requestfailed", lambda request: self.missing.append(request.url))
        self.page.route("**/*", self._route)
        self.page.goto(url)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _route(self, route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


def embedded(page: Page, key: str) -> list[dict]:
    return json.loads(page.page.locator(f"#data-{key}").text_content())


def test_report_renders_its_charts_and_tables_with_the_demo_numbers(site, browser) -> None:
    page = Page(browser, (site.root / "report" / "index.html").as_uri())
    page.page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6", timeout=30_000
    )
    alerts = embedded(page, "open_alerts")
    assert alerts
    # the stacked bars add up to the open alerts, as drawn by plotly.js
    drawn = page.page.evaluate(
        "document.getElementById('chart-alerts_by_day').data"
        ".reduce((sum, trace) => sum + trace.y.reduce((a, b) => a + b, 0), 0)"
    )
    assert drawn == len(alerts)
    rendered_rows = page.page.locator("#open_alerts tbody tr").count()
    assert rendered_rows == len(alerts)
    bars = page.page.evaluate("document.getElementById('chart-top_api_calls').data[0].x")
    assert bars == [r["calls"] for r in embedded(page, "top_api_calls")[:15]][::-1]
    heat = page.page.locator("#chart-attack .heatmaplayer, #chart-attack .hm").count()
    assert heat >= 1
    shot = page.screenshot("report")
    assert shot.stat().st_size > 20_000
    assert page.errors == [] and page.refused == []


def test_report_drill_down_pages_render(site, browser) -> None:
    index = Page(browser, (site.root / "report" / "index.html").as_uri())
    link = index.page.locator("#open_alerts a[href^='principals/']").first
    name = link.text_content()
    link.click()
    index.page.wait_for_load_state()
    assert "/principals/" in index.page.url
    assert index.page.locator("h1").text_content() == name
    timeline = embedded(index, "timeline")
    assert timeline and index.page.locator("#timeline tbody tr").count() == len(timeline)
    index.screenshot("report-principal")
    assert index.errors == [] and index.refused == []


def test_report_filters_alerts_by_triage_status(demo_lake: Workspace, browser, tmp_path) -> None:
    ws = demo_lake.copy(tmp_path / "ws")
    alert_ids = [a["alert_id"] for a in json.loads(run_ingest(ws, "alerts", "list", "--json"))]
    run_ingest(ws, "alerts", "close", alert_ids[0], "--note", "benign")
    run_ingest(ws, "alerts", "ack", alert_ids[1])
    run_ingest(ws, "report", "--out", str(tmp_path / "report"))
    page = Page(browser, (tmp_path / "report" / "index.html").as_uri())
    rows = page.page.locator("#open_alerts tbody tr")
    total = len(embedded(page, "open_alerts"))

    def visible(status: str) -> int:
        return page.page.locator(f"#open_alerts tbody tr[data-status={status}]:visible").count()

    # closed alerts start hidden; ticking the box shows them, unticking open hides those
    assert (visible("closed"), visible("acknowledged")) == (0, 1)
    assert rows.locator("visible=true").count() == total - 1
    page.page.locator("#open_alerts input[value=closed]").check()
    assert visible("closed") == 1 and rows.locator("visible=true").count() == total
    page.page.locator("#open_alerts input[value=open]").uncheck()
    assert rows.locator("visible=true").count() == 2
    page.screenshot("report-triage-filter")
    assert page.errors == [] and page.refused == []


def test_docs_site_shows_the_detection_catalog(site, browser) -> None:
    docs = Path(site.env["DBT_TARGET_PATH"]) / "static_index.html"
    page = Page(browser, docs.as_uri() + "#!/model/model.trailhouse.alerts")
    page.page.wait_for_selector("text=Detection coverage", timeout=30_000)
    assert page.page.locator("text=aws-root-console-login").count() >= 1
    page.screenshot("docs-alerts")
    # dbt docs' own page asks for a few URLs that are still templates ("{{ getIcon(...) }}"
    # before Angular fills it in, "${require('./assets/favicons/favicon.ico')}" left by its
    # bundler); anything else missing or failing is an error
    template_urls = [url for url in page.missing if "%7B" in url]
    assert page.missing == template_urls, page.missing
    errors = [e for e in page.errors if e != "Failed to load resource: net::ERR_FILE_NOT_FOUND"]
    assert errors == [] and len(page.errors) == len(template_urls), page.errors
    assert page.refused == []
    # the report links to this docs site
    report = (site.root / "report" / "index.html").read_text()
    assert 'href="../target/static_index.html"' in report
