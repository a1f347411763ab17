"""End-to-end: a real gunicorn serving the app, driven by Debian's headless Chromium.

Playwright cannot download its own browser here; we launch /usr/bin/chromium
(``apt-get install chromium``; .ci/run installs it). Screenshots go to
``test-artifacts/screenshots/`` for people to look at.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support import processes

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "correct horse battery staple"

from tests.support.services import (  # noqa: E402,F401  (fixtures)
    REDIS_URL,
    delete_redis_namespace,
    migrate,
    pg_admin,
    pg_url,
    redis_client,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    """The console under gunicorn, with its own database and environment."""

    url: str
    env: dict[str, str]
    process: subprocess.Popen
    log: Path
    users: dict[str, str] = field(default_factory=dict)
    workers: list[subprocess.Popen] = field(default_factory=list)

    def flask(self, *args: str, input: str | None = None) -> str:
        result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=self.env,
                                input=input, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start_worker(self) -> subprocess.Popen:
        """A real `flask worker` (RQ + scheduler) on this server's database and queues."""
        name = f"{self.env['RQ_QUEUE_PREFIX']}-w{len(self.workers)}"
        log = (self.log.parent / f"{name}.log").open("w")
        proc = processes.spawn([sys.executable, "-m", "flask", "worker", "--name", name],
                               cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def stop(self) -> None:
        processes.stop([self.process, *self.workers])
        if self.env.get("REDIS_URL"):
            delete_redis_namespace(self.env["REDIS_URL"], self.env["RQ_QUEUE_PREFIX"])

    def create_user(self, role: str, name: str | None = None) -> str:
        """A console user; ``log_in(page, server, name)`` (``name`` defaults to the role:
        a second moderator is ``create_user("moderator", "moderator2")``)."""
        name = name or role
        email = f"{name}@e2e.example.com"
        self.flask("users", "create", email, "--role", role, "--password-stdin",
                   input=PASSWORD + "\n")
        self.users[name] = email
        return email


def start_server(tmp_path: Path, extra_env: dict[str, str] | None = None) -> LiveServer:
    port = _free_port()
    env = {
        **os.environ,
        "TRUSTDESK_ENV": "development",
        "TRUSTDESK_INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
        "SECRET_KEY": "e2e-secret-key-0123456789-0123456789-0123456789",
        "FLASK_APP": "app",
        "RQ_QUEUE_PREFIX": f"tde2e-{port}",
        **(extra_env or {}),
    }
    env.pop("REDIS_URL", None) if "REDIS_URL" not in (extra_env or {}) else None
    migrate(env["DATABASE_URL"])
    log = tmp_path / "gunicorn.log"
    process = processes.spawn(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "-", "app:create_app()"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"gunicorn did not start: {log.read_text()}")
    return LiveServer(url=url, env=env, process=process, log=log)


@pytest.fixture
def live_server(tmp_path) -> Iterator[LiveServer]:
    server = start_server(tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} not found (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires it", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def db(server):
    """A session on the database of the module's ``server``, for seeding (as the worker
    would write)."""
    from app.db import get_engine, session_scope
    from tests.helpers import make_app

    app = make_app(server.env["DATABASE_URL"])
    with app.app_context(), session_scope() as session:
        yield session
    with app.app_context():
        get_engine().dispose()


def new_page(browser, *, width: int = 1280, height: int = 800):
    """A fresh browser context and page that record console errors and dialogs
    (``page.console_errors``, ``page.dialogs``; dialogs are dismissed)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.dialogs = []  # type: ignore[attr-defined]
    page.exchanges = []  # type: ignore[attr-defined]  # "METHOD path -> status", for failures
    page.on("response", lambda r: page.exchanges.append(
        f"{r.request.method} {r.url.split('//', 1)[-1].split('/', 1)[-1]} -> {r.status}"))
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))

    def _dialog(d):
        page.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", _dialog)
    return context, page


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test reports what the browser had: its URL, the page's main text and
    its last requests, and the tail of the server's log (CI keeps only the output)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    lines = []
    for name in ("page", "admin_page", "moderator_page"):
        page = item.funcargs.get(name)
        if page is None or not hasattr(page, "exchanges"):
            continue
        try:
            main = page.locator("main").first.inner_text(timeout=2000)
        except Exception as exc:  # noqa: BLE001 - the report is best effort
            main = f"(no main text: {exc.__class__.__name__})"
        lines += [f"[{name}] at {page.url}", main[:3000], "last requests:",
                  *page.exchanges[-25:]]
    for name in ("server", "live_server"):
        server = item.funcargs.get(name)
        log = getattr(server, "log", None)
        if log is not None and Path(log).exists():
            lines += [f"[{name}] log tail:", *(line[:200] for line in Path(log).read_text(
                errors="replace").splitlines()[-40:])]
    if lines:
        report.sections.append(("browser state at the failure", "\n".join(lines)))


@pytest.fixture
def page(browser):
    context, page = new_page(browser)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, server: LiveServer, role: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("E-mail").fill(server.users[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/queue/")
