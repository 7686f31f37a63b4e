"""The demo blog end to end: uvicorn on loopback, driven by headless Chromium.

The browser is Debian's ``chromium`` with its ``chromium-driver`` (apt), never
a downloaded one: the driver path is given to Selenium, so Selenium Manager
is not run.
"""

from __future__ import annotations

import shutil
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.servers.conftest import REPO
from tests.servers.conftest import run_server
from tests.servers.conftest import Server

pytestmark = pytest.mark.servers

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Seconds any one page load or wait may take (the machine is shared).
TIMEOUT = 30
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def blog(tmp_path: Path) -> Iterator[Server]:
    """Serve a blog with a fresh instance folder (and so a fresh database)."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--no-access-log",
        "examples.blog:create_app",
    ]
    env = {"BLOG_INSTANCE_PATH": str(tmp_path / "instance")}
    with run_server("blog", command, "asgi", env=env) as server:
        yield server


@pytest.fixture
def browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[webdriver.Chrome]:
    """Start headless Chromium; always quit it."""
    # Belt and braces: Selenium Manager must never fetch a browser or driver.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    service = Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(TIMEOUT)
        driver.set_script_timeout(TIMEOUT)
        yield driver
    finally:
        driver.quit()


def fill(driver: webdriver.Chrome, **fields: str) -> None:
    for name, value in fields.items():
        element = driver.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)


def submit(driver: webdriver.Chrome, label: str) -> None:
    driver.find_element(
        By.XPATH, f"//main//button[normalize-space()='{label}']"
    ).click()


def wait_for_text(driver: webdriver.Chrome, css: str, text: str) -> None:
    WebDriverWait(driver, TIMEOUT).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text),
        message=f"{text!r} did not appear in {css!r} on {driver.current_url}",
    )


def test_register_login_post_logout(
    blog: Server, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{blog.port}"
    browser.get(base + "/")
    assert browser.title == "Posts · erlen blog"
    assert browser.find_element(By.CSS_SELECTOR, ".empty").text == "Nothing here yet."
    # The stylesheet from /static was applied.
    nav = browser.find_element(By.TAG_NAME, "nav")
    assert nav.value_of_css_property("background-color") == "rgba(31, 36, 48, 1)"

    # Register.
    browser.find_element(By.LINK_TEXT, "Register").click()
    WebDriverWait(browser, TIMEOUT).until(ec.url_to_be(base + "/auth/register"))
    fill(browser, username="ada", password="correct horse")
    submit(browser, "Create account")
    wait_for_text(browser, ".flash.success", "Your account is ready. Please log in.")
    assert browser.current_url == base + "/auth/login"

    # Log in: a wrong password first, then the right one.
    fill(browser, username="ada", password="wrong")
    submit(browser, "Log in")
    wait_for_text(browser, ".flash.error", "Incorrect username or password.")
    fill(browser, username="ada", password="correct horse")
    submit(browser, "Log in")
    wait_for_text(browser, "nav .who", "Logged in as ada")
    assert browser.current_url == base + "/"

    # Write a post.
    browser.find_element(By.LINK_TEXT, "Write a post").click()
    WebDriverWait(browser, TIMEOUT).until(ec.url_to_be(base + "/create"))
    fill(browser, title="Hello, <Chromium>", body="Written by a real browser.")
    submit(browser, "Publish")
    wait_for_text(browser, ".flash.success", "Your post is published.")

    # It is on the index, escaped as text, with an edit link for its author.
    assert browser.current_url == base + "/"
    (post,) = browser.find_elements(By.CSS_SELECTOR, "article.post")
    assert post.find_element(By.TAG_NAME, "h2").text == "Hello, <Chromium>"
    assert post.find_element(By.CSS_SELECTOR, ".body").text == (
        "Written by a real browser."
    )
    assert post.find_element(By.CSS_SELECTOR, ".about").text.startswith("by ada on ")
    assert post.find_element(By.LINK_TEXT, "Edit").get_attribute("href") == (
        base + "/1/update"
    )

    # A screenshot of the index page, kept with the test's output.
    shot = tmp_path / "blog-index.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    # The IHDR chunk comes first: width and height of the viewport.
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100
    assert height > 100
    assert len(data) > 1000
    output = REPO / "test-output"
    output.mkdir(exist_ok=True)
    shutil.copyfile(shot, output / "blog-index.png")

    # Log out: the post stays, the account links come back.
    browser.find_element(By.ID, "logout").click()
    wait_for_text(browser, ".flash.success", "You are logged out.")
    assert browser.current_url == base + "/"
    assert browser.find_element(By.LINK_TEXT, "Log in").is_displayed()
    assert browser.find_elements(By.LINK_TEXT, "Write a post") == []
    assert browser.find_elements(By.LINK_TEXT, "Edit") == []
    assert "Hello, <Chromium>" in browser.find_element(By.TAG_NAME, "main").text
