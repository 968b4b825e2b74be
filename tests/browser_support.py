"""Real JupyterLab pages in Debian's Chromium, driven by Playwright, for ``test_browser.py``.

``chromium()`` launches ``/usr/bin/chromium`` headless (Playwright's own browser download is
not reachable here) with the background networking switched off, so that it does not hammer a
closed network. ``JupyterLab`` runs a server as a subprocess in its own process group, with a
random token, on a free port of the loopback address. The plugin part (loaded through
``pytest_plugins``) saves ``test-artifacts/browser/<test name>.png`` of every page a failing
test had open.

Without Chromium or Playwright the tests skip, unless ``REQUIRE_BROWSER=1`` (CI sets it):
then they fail. (PYTEST_DONT_REWRITE: the test module imports this before pytest loads it as
a plugin.)
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from support import skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
SERVER_START_TIMEOUT = 60.0


def require_browser() -> None:
    """Skip (or fail, with ``REQUIRE_BROWSER`` set) when Chromium or Playwright is missing."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if missing:
        skip_or_fail("browser tests need " + " and ".join(missing), "REQUIRE_BROWSER")


def chromium(playwright, user_data_dir: Path):
    """A headless Chromium with a fresh profile in ``user_data_dir``: a browser context."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 900},
    )


def free_port() -> int:
    """A TCP port nobody listens on right now, on the loopback address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """A JupyterLab server in ``root_dir``, started with the tools in ``bin_dir``."""

    def __init__(
        self,
        bin_dir: Path,
        root_dir: Path,
        env: Mapping[str, str],
        log: Path,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.token = secrets.token_hex(16)
        self.root_dir = root_dir
        self.log = log
        for _ in range(3):  # another process may take the free port before the server does
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.process = self.launch(bin_dir, dict(env), extra_args)
            if self.wait_until_up():
                return
        raise RuntimeError(f"jupyter lab found no free port: {self.log_tail()}")

    def launch(
        self, bin_dir: Path, env: dict[str, str], extra_args: Sequence[str]
    ) -> subprocess.Popen:
        command = [
            str(bin_dir / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--ServerApp.token={self.token}",
            "--ServerApp.ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.expose_app_in_browser=True",
            # JupyterLab asks nobody outside whether it is up to date
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            *extra_args,
        ]
        with open(self.log, "ab") as out:
            self.log_start = out.tell()
            return subprocess.Popen(
                command,
                cwd=self.root_dir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_until_up(self) -> bool:
        """Wait for ``/api/status``; False if the port was taken, an error if anything else."""
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                with open(self.log, "rb") as log:
                    log.seek(self.log_start)
                    taken = b"is already in use" in log.read()
                if taken:
                    return False
                raise RuntimeError(f"jupyter lab exited: {self.log_tail()}")
            try:
                status, _ = self.get("/api/status")
                if status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"jupyter lab did not answer in {SERVER_START_TIMEOUT} s: {self.log_tail()}"
        )

    def get(self, path: str) -> tuple[int, str]:
        """``GET path`` with the token; the status code and the body."""
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"token {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """Stop the server and its kernels.

        Kernels run in sessions of their own (jupyter_client starts them so), out of reach of
        a signal to the server's process group: SIGTERM first, on which the server shuts its
        kernels down, then SIGKILL to the group for whatever is left of the server.
        """
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def visit(page, lab: JupyterLab, path: str) -> None:
    """Go to ``path`` on ``lab``, through its login page the first time, as a person does.

    (A token in the URL logs in only pages that set the login cookie: formgrader's own pages
    do not, so their API calls are then redirected to the login page and the tables hang on
    "Loading, please wait...".) The referer is the lab's page, as when the person follows a
    link from their JupyterLab tab: ``/files/`` refuses a cookie-authenticated request without
    one.
    """
    page.goto(f"{lab.url}/login?next={urllib.parse.quote(path)}", referer=f"{lab.url}/lab")
    if urllib.parse.urlparse(page.url).path == "/login":
        page.fill("#password_input", lab.token)
        with page.expect_navigation():
            page.click("#login_submit")
    if urllib.parse.urlparse(page.url).path == "/login":
        raise AssertionError(f"the token did not log in to {lab.url}")


def open_lab(page, lab: JupyterLab, path: str = "") -> None:
    """Load JupyterLab (at ``tree/<path>`` if given) and wait until its shell is restored.

    Each visit gets a workspace of its own: two tabs on one workspace make JupyterLab
    redirect the second one to a new workspace, under the test's feet.
    """
    workspace = f"/lab/workspaces/t{secrets.token_hex(4)}"
    visit(page, lab, f"{workspace}/tree/{path}" if path else workspace)
    page.wait_for_function(
        "() => window.jupyterapp !== undefined && window.jupyterapp.shell.isAttached",
        timeout=60_000,
    )
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")


def lab_commands(page) -> list[str]:
    """Every command id JupyterLab registered."""
    return page.evaluate("() => window.jupyterapp.commands.listCommands()")


def page_text(page) -> str:
    """All of a page and its frames, as markup and as text (escaped characters unescaped)."""
    texts = []
    for frame in page.frames:
        try:
            texts += frame.evaluate(
                "() => [document.documentElement.outerHTML, document.documentElement.textContent]"
            )
        except Exception:  # a frame that navigated away meanwhile
            continue
    return "\n".join(texts)


def artifact_name(nodeid: str) -> str:
    """A file name for a test id: ``test_browser.py::test_x[a/b]`` -> ``test_x-a-b``."""
    name = nodeid.split("::", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


# pytest plugin: a screenshot of every open page when a browser test fails


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed or report.when == "teardown" or "browser" not in item.keywords:
        return
    pages = []
    for value in getattr(item, "funcargs", {}).values():
        # a page, or a fixture's object that holds one: every tab of its browser
        context = getattr(getattr(value, "page", value), "context", None)
        for candidate in getattr(context, "pages", []) or []:
            if candidate not in pages:
                pages.append(candidate)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = artifact_name(item.nodeid)
    saved = []
    for i, page in enumerate(pages):
        path = ARTIFACTS / (f"{name}.png" if i == 0 else f"{name}-{i + 1}.png")
        try:
            page.screenshot(path=str(path), full_page=True, timeout=10_000)
            saved.append(str(path))
        except Exception as error:  # a closed page: say so and go on
            saved.append(f"{path}: {error}")
    if saved:
        report.sections.append(("browser screenshots", "\n".join(saved)))
