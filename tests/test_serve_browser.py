"""The checking page in a real browser (Debian's chromium with chromedriver, driven by Selenium):
a student types a right and a wrong answer and reads the rendered verdicts. CI installs the
browser, so there these tests never skip."""

import os
import shutil
import socket
import threading
import time

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif((CHROMIUM is None or DRIVER is None) and not os.environ.get("CI"),
                                reason="chromium and chromedriver not installed (CI installs them)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    import uvicorn

    from derive.serve.app import Limits, create_app

    port = _free_port()
    config = uvicorn.Config(create_app([], Limits(workers=1, burst=50)), host="127.0.0.1", port=port,
                            log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert srv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _check(browser, url, target, answer):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#problem option")) > 10)
    Select(browser.find_element(By.ID, "problem")).select_by_visible_text(target)
    box = browser.find_element(By.ID, "answer")
    box.clear()
    box.send_keys(answer)
    browser.find_element(By.ID, "submit").click()
    wait.until(lambda b: b.find_element(By.ID, "verdict").text.strip())
    return browser


SOFTMAX = "softmax: ∂/∂x (Softmax with temperature β)"


def test_a_right_answer_is_rendered_correct_with_its_math(server, browser):
    from selenium.webdriver.common.by import By

    page = _check(browser, server, SOFTMAX, r"\beta y_i(\delta_{ij} - y_j)")
    assert page.find_element(By.ID, "verdict").text == "correct"
    assert page.find_elements(By.CSS_SELECTOR, "#understood .katex")  # rendered by the bundled KaTeX
    assert page.find_elements(By.CSS_SELECTOR, "#preview .katex")
    assert page.find_element(By.ID, "evidence").text.startswith("proven symbolically")  # what the verdict rests on


def test_a_wrong_answer_gets_its_feedback_and_a_counterexample(server, browser):
    from selenium.webdriver.common.by import By

    page = _check(browser, server, SOFTMAX, r"y_i(\delta_{ij} - y_j)")
    assert page.find_element(By.ID, "verdict").text == "incorrect"
    assert "missing factor β" in page.find_element(By.ID, "feedback").text
    assert "your answer gives" in page.find_element(By.ID, "counterexample").text
    assert not page.find_element(By.ID, "expected-row").is_displayed()  # the answer is not given away


def test_markup_in_an_answer_is_shown_as_text_never_run(server, browser):
    from selenium.webdriver.common.by import By

    page = _check(browser, server, SOFTMAX, "<img src=x onerror=document.title='pwned'>")
    assert page.find_element(By.ID, "verdict").text == "invalid"
    assert page.title != "pwned"
    assert not page.find_elements(By.CSS_SELECTOR, "#result img, #preview img")
