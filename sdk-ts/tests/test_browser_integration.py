"""End to end in headless Chromium: a page tracks events with the SDK's bundle, against the real
gateway; every event reaches Kafka and Silver exactly once, and the refused one is reported.

The page is served from its own origin and calls the gateway cross-origin: the preflight and
every answer go through the gateway's CORS (the session's write key allows any origin).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from accord.gateway.testing import GatewayHandle
from accord.gold.browser import ensure_chromium
from accord.runtime.testing import BrokerHandle
from accord.schemas.catalog import load_catalog
from accord.schemas.settings import SchemasSettings
from accord.streaming.testing import Pipeline, read_events

pytestmark = [pytest.mark.integration, pytest.mark.spark]

BROWSER = Path(__file__).parent / "browser"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output free of access lines."""


@pytest.fixture
def page_url(sdk_ts: Path, tmp_path: Path) -> Iterator[str]:
    """The test page and the tracker bundle, served over HTTP from an origin of their own."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(sdk_ts / "dist" / "accord.iife.js", site)
    for name in ("page.html", "page.js"):
        shutil.copy(BROWSER / name, site)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/page.html"
    server.shutdown()
    server.server_close()
    thread.join()


def open_page(sdk_ts: Path, url: str) -> dict[str, Any]:
    """What the page reports once it tracked its events (it is then left, firing page hide)."""
    done = subprocess.run(
        ["node", str(BROWSER / "drive.mjs"), str(ensure_chromium()), url],
        cwd=sdk_ts,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in result, result
    return result


def test_page_events_reach_kafka_and_silver_exactly_once(
    sdk_ts: Path,
    page_url: str,
    gateway_server: GatewayHandle,
    kafka_broker: BrokerHandle,
    pipeline: Pipeline,
) -> None:
    visitor = uuid.uuid4().hex[:12]
    query = urlencode({"gateway": gateway_server.url, "key": gateway_server.write_key, "visitor": visitor})
    result = open_page(sdk_ts, f"{page_url}?{query}")

    assert result["errors"] == []
    assert result["rejected"] == [
        {"code": "decimal_out_of_range", "field": "amount", "eventId": result["refused"]}
    ]
    assert result["pendingAtHide"] == 3, "the feature events wait for the page to go away"
    ids = result["tracked"]
    assert len(set(ids)) == len(ids) == 14

    delivered = read_events(kafka_broker.bootstrap, set(ids))
    assert {event_id: len(records) for event_id, records in delivered.items()} == dict.fromkeys(ids, 1), (
        "every event once: the signup sent twice included, the ones sent on page hide too"
    )
    catalog = load_catalog(SchemasSettings().schemas_dir)
    purchase_id = ids[10]
    purchase = delivered[purchase_id][0].decode(
        catalog.self_contained(catalog.require("accord.events.Purchase"))
    )
    assert purchase["amount"] == Decimal("99.90")
    assert purchase["items"] == [{"sku": "sku-1", "quantity": 2, "unit_price": Decimal("49.95")}]
    assert purchase["envelope"]["context"]["platform"] == "WEB"
    assert purchase["envelope"]["user_id"] == f"user-{visitor}"

    pipeline.run()
    silver = pipeline.table("silver")
    rows = silver.where(silver.event_id.isin(ids)).collect()
    assert Counter(row.event_id for row in rows) == Counter(ids)
    assert Counter(row.event_type for row in rows) == {
        "page_view": 9,
        "signup": 1,
        "purchase": 1,
        "feature_used": 3,
    }
    (bought,) = [row for row in rows if row.event_id == purchase_id]
    assert bought.purchase.amount == Decimal("99.90")
    assert result["refused"] not in {row.event_id for row in rows}
