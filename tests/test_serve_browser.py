"""The service's page in a real browser: headless Chromium from Debian's
``chromium`` and ``chromium-driver`` packages, driven by Selenium pointed at
them (so that Selenium never looks for a driver to download).

Set ``FASHION_SCREENSHOT=PATH`` to keep the screenshot (the docs' picture of
the page is made so).
"""

import os
import shutil
import time

import numpy as np
import pytest
from helpers import FAST_CNN, product_photo
from PIL import Image

from benchmarks.load import Service
from fashion_estimators import FashionCNNClassifier, save_model

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("apt-get install chromium chromium-driver (.ci/run does)")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never download
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1000,720",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=DriverService(executable_path=CHROMEDRIVER), options=options
    )
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def service(train_set, tmp_path_factory):
    # 3,000 images and 3 epochs: a model that knows a trouser from a boot
    X, y = train_set[0][:3000], train_set[1][:3000]
    clf = FashionCNNClassifier(**{**FAST_CNN, "filters": (16, 32), "epochs": 3})
    clf.fit(X, y)
    path = tmp_path_factory.mktemp("page") / "cnn.fashion"
    save_model(clf, path)
    with Service(path) as running:
        yield running


def _wait_for(driver, condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(condition)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"the page never satisfied {condition}")


def _result(driver) -> dict:
    return driver.execute_script(
        """const all = (css) => [...document.querySelectorAll(css)];
        return {
            status: document.getElementById("status").textContent,
            names: all("#bars .name").map(e => e.textContent),
            widths: all("#bars .bar span").map(e => e.style.width),
            warning: !document.getElementById("warning").hidden,
            error: document.getElementById("error").textContent,
            ink: (() => {
                const c = document.getElementById("seen").getContext("2d");
                return c.getImageData(0, 0, 28, 28).data.reduce((a, b) => a + b, 0);
            })(),
        };"""
    )


def _upload(driver, path) -> dict:
    from selenium.webdriver.common.by import By

    driver.execute_script('document.getElementById("status").textContent = "sent"')
    driver.find_element(By.ID, "file").send_keys(str(path))
    _wait_for(
        driver,
        'const s = document.getElementById("status").textContent;'
        'return s == "done" || s == "failed"',
    )
    return _result(driver)


def test_the_page_classifies_an_uploaded_photo(browser, service, test_set, tmp_path):
    browser.get(service.url)
    _wait_for(browser, 'return document.querySelectorAll("#samples img").length')
    # a shop photo of a test-set trouser: dark on white, off-centre, 400x300
    trouser = test_set[0][np.flatnonzero(test_set[1] == 1)[0]]
    photo = tmp_path / "trouser.jpg"
    product_photo(trouser, np.random.default_rng(0)).save(photo, quality=90)
    shown = _upload(browser, photo)
    assert shown["status"] == "done", shown["error"]
    assert shown["names"][0] == "Trouser"
    assert len(shown["names"]) == 3 and all(w.endswith("%") for w in shown["widths"])
    assert not shown["warning"]
    assert shown["ink"] > 28 * 28 * 255  # the 28x28 image drawn, not left black
    screenshot = browser.get_screenshot_as_png()
    assert screenshot.startswith(b"\x89PNG")
    if os.environ.get("FASHION_SCREENSHOT"):
        with open(os.environ["FASHION_SCREENSHOT"], "wb") as file:
            file.write(screenshot)


def test_a_sample_and_a_photo_unlike_clothing(browser, service, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(service.url)
    _wait_for(browser, 'return document.querySelectorAll("#samples img").length')
    browser.execute_script('document.getElementById("status").textContent = "sent"')
    browser.find_elements(By.CSS_SELECTOR, "#samples button")[0].click()
    _wait_for(browser, 'return document.getElementById("status").textContent == "done"')
    assert _result(browser)["names"][0] == "Ankle boot"  # the first sample
    # 28x28 noise, taken as it is (a larger noise photo is cropped and
    # shrunk into a smooth blob first, which the score does not reliably catch:
    # docs/user_guide/serving.md)
    noise = np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    shown = _upload(browser, tmp_path / "noise.png")
    assert shown["status"] == "done" and shown["warning"]
    # and a file that is no image: the page says so, in words
    (tmp_path / "notes.png").write_bytes(b"not an image at all")
    shown = _upload(browser, tmp_path / "notes.png")
    assert shown["status"] == "failed"
    assert "not an image" in shown["error"]
