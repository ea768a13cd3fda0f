"""Pages in a real browser: Debian's headless Chromium through Debian's chromedriver
(Selenium, no browser download), a phone viewport by default, and the app served on 127.0.0.1.
Used by the web tests, the first-run test and the screenshot tools."""
import os
import pathlib
import shutil
import tempfile
import threading


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(10)


CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
PHONE = {"width": 390, "height": 844, "pixelRatio": 2, "mobile": True, "touch": True}
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Mobile Safari/537.36")


def _first(paths):
    return next((p for p in paths if os.path.exists(p)), None)


def chromium_or_skip():
    binary, driver = _first(CHROMIUM), _first(CHROMEDRIVER)
    missing = [n for n, p in (("chromium", binary), ("chromedriver", driver)) if p is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        msg = f"headless browser tests need {', '.join(missing)} (scripts/test.sh installs them)"
        import pytest
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: this is a failure)")
        pytest.skip(msg)
    return binary, driver


def start_chromium(lang="zh-CN,zh", phone=True):
    """Headless Chromium: a phone (390 x 844 CSS px, DPR 2, touch) or a 1280 x 900 desktop."""
    binary, driver_path = chromium_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="xinka-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    if phone:
        opts.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE,
                                                         "userAgent": PHONE_UA})
    else:
        opts.add_argument("--window-size=1280,900")
    opts.add_experimental_option("prefs", {"intl.accept_languages": lang})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    drv.set_page_load_timeout(30)
    drv._xinka_profile = profile
    return drv


def stop_chromium(drv):
    try:
        drv.quit()
    finally:
        shutil.rmtree(drv._xinka_profile, ignore_errors=True)


def full_screenshot(drv, path):
    """The whole page, not just the viewport (Chrome DevTools Protocol)."""
    import base64
    m = drv.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = m.get("cssContentSize") or m["contentSize"]
    shot = drv.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                 "scale": 1}})
    pathlib.Path(path).write_bytes(base64.b64decode(shot["data"]))
    return path
