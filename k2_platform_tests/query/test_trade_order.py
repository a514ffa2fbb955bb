"""Trades inside one millisecond come in the venue's order (trade_time, exchange, symbol, sequence) everywhere:
in gold's files, through the API's pages and in the hybrid read (gold + Kafka tail).

The input is the shared recording's busiest millisecond (T=1723161515302, 735 trades, ids 3735689812..3735690546)
with its neighbours, sent through the real ingest pipeline (parse, normalize, Avro, Kafka) and the real drains.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from k2_platform.ingest.service import IngestService, replay_feeds
from k2_platform.lakehouse.backlog import bronze_backlog, gold_backlog, refine_backlog
from k2_platform.lakehouse.bronze import drain_to_bronze
from k2_platform.lakehouse.gold import build_gold
from k2_platform.lakehouse.refine import refine
from k2_platform.lakehouse.tables import load
from k2_platform.query.api import create_app
from k2_platform.query.rows import iso_us

pytestmark = pytest.mark.integration

BUSY_MS = 1_723_161_515_302
BUSY_IDS = list(range(3_735_689_812, 3_735_690_547))  # the 735 trades of BUSY_MS, from the recording's "t"
WINDOW_MS = (1_723_161_515_299, 1_723_161_515_320)  # 12 + 12 + 1 trades before it, 1 after: 761 in all


def _frames(recording) -> list[str]:
    with gzip.open(recording, "rt") as fh:
        frames = [line.split(" ", 1)[1].strip() for line in fh]
    return [f for f in frames if WINDOW_MS[0] <= json.loads(f)["data"]["T"] <= WINDOW_MS[1]]


def _ingest(settings, frames: list[str]) -> None:
    service = IngestService(settings, replay_feeds(settings, ["binance"], ["BTCUSDT"]))

    async def drive() -> None:
        async with service.pipeline() as (pipeline, venues):
            for frame in frames:
                await pipeline.handle(venues["binance"], frame, time.time_ns() // 1000)

    asyncio.run(drive())
    assert service.delivered == len(frames) and not service.delivery_failures


def _drain_once(settings, catalog) -> None:
    for find, run in ((bronze_backlog, drain_to_bronze), (refine_backlog, refine), (gold_backlog, build_gold)):
        rng = find(settings, catalog)
        assert rng, f"{run.__name__}: nothing to do"
        run(settings, catalog, rng)


def _pages(client, params: dict) -> list[int]:
    seen, cursor = [], None
    while True:
        body = client.get("/v1/trades", params={**params, **({"cursor": cursor} if cursor else {})}).json()
        seen += [int(t["trade_id"]) for t in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def _recent(client, limit: int) -> tuple[list[int], dict]:
    body = client.get("/v1/trades/recent", params={"symbol": "BTCUSDT", "limit": limit}).json()
    return [int(t["trade_id"]) for t in body["data"]], body


def test_one_millisecond_of_735_trades_keeps_the_venue_order(settings, catalog, binance_recordings):
    lake = settings.lakehouse.model_copy(update={"max_records_per_run": 200})
    settings = settings.model_copy(update={"lakehouse": lake, "ingest": settings.ingest.model_copy(update={"metrics_port": 0})})
    frames = _frames(binance_recordings[0])
    all_ids = [json.loads(f)["data"]["t"] for f in frames]
    assert len(frames) == 761 and [i for f, i in zip(frames, all_ids) if json.loads(f)["data"]["T"] == BUSY_MS] == BUSY_IDS
    _ingest(settings, frames)

    # Two drains of 200: gold holds the first 400 trades (375 of the busy millisecond), Kafka the other 361.
    _drain_once(settings, catalog)
    _drain_once(settings, catalog)
    gold = load(catalog, settings.catalog.namespace, "gold_trades")
    rows = gold.scan().to_arrow()
    assert rows.num_rows == 400
    # sequence is the trade id as a number (what ingest sequences by), so it orders like the id.
    assert rows["sequence"].to_pylist() == [int(t) for t in rows["trade_id"].to_pylist()]
    by_message_id = [int(t) for t in rows.sort_by("message_id")["trade_id"].to_pylist()]
    assert by_message_id != sorted(by_message_id)  # the old tie order would really scramble this millisecond
    for task in gold.scan().plan_files():  # gold's files themselves are in the trade order
        ids = [int(t) for t in pq.read_table(task.file.file_path.removeprefix("file://"), columns=["trade_id"])["trade_id"].to_pylist()]
        assert ids == sorted(ids) and len(ids) == 200

    with TestClient(create_app(settings)) as client:
        client.app.state.service.engine.tables.refresh_s = 0
        # Hybrid read across the boundary: gold's rows of the millisecond, then the tail's, newest first.
        newest, body = _recent(client, 761)  # more than gold holds: gold's part read from files
        assert newest == all_ids[::-1] and body["tail_records"] == 361
        newest, body = _recent(client, 400)  # gold's newest 400 from the in-memory recent window
        assert newest == all_ids[:-401:-1] and body["tail_records"] == 361
        assert client.app.state.service.engine.recent.builds == 1

        _drain_once(settings, catalog)
        _drain_once(settings, catalog)
        assert load(catalog, settings.catalog.namespace, "gold_trades").scan().to_arrow().num_rows == 761
        # The API's pages through the busy millisecond: 15 pages of 50, in trade-id order, none twice.
        params = {"symbol": "BTCUSDT", "start": iso_us(BUSY_MS * 1000), "end": iso_us(BUSY_MS * 1000 + 1000), "limit": 50}
        assert _pages(client, params) == BUSY_IDS
        assert _pages(client, {**params, "exchange": "binance", "limit": 7}) == BUSY_IDS
        assert _pages(client, {"symbol": "BTCUSDT", "limit": 50}) == all_ids
        newest, body = _recent(client, 761)
        assert newest == all_ids[::-1] and body["tail_records"] == 0
