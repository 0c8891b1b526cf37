# SPDX-License-Identifier: MIT
"""Headless Chromium for the page's tests (Debian's chromium,
chromium-driver and python3-selenium).

- browser(tmp, spki=None, login=None): a driver whose console is logged
  (get_log("browser")), its profile under tmp; spki: trust the page's own
  certificate by its public key's hash (spki_hash()); login (name,
  password): every request carries it (HTTP Basic, through the DevTools
  protocol), as a browser that was asked once would;
- spki_hash(pem): the SHA-256 of a certificate's public key, base64, as
  Chromium's --ignore-certificate-errors-spki-list takes it."""
import base64
import hashlib
import subprocess
import tempfile


def browser(tmp, spki=None, login=None):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=1280,1600",
            "--user-data-dir=" + tempfile.mkdtemp(prefix="bmsgw-chromium-", dir=tmp)]
    if spki:
        args.append("--ignore-certificate-errors-spki-list=" + spki)
    for a in args:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    if login:
        auth = base64.b64encode(("%s:%s" % login).encode()).decode()
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": "Basic " + auth}})
    return d


def spki_hash(pem):
    pub = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-pubkey"], capture_output=True, text=True,
                         check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub.encode(), capture_output=True,
                         check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()
