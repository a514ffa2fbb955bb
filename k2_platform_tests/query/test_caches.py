"""The in-memory recent window and the per-file summary statistics give exactly what reading files gives."""

from __future__ import annotations

from k2_platform.lakehouse.tables import load
from k2_platform.query.engine import QueryEngine
from k2_platform.query.rows import arrow_rows
from k2_platform.query.summary import FileStats, summary
from k2_platform.query.trades import GOLD, TradeFilter, _ordered, last_trades, ts

from .gold_fixtures import T0, append_gold, trade

HOUR = 3_600_000_000
MINUTE = 60_000_000


def _file_walk(engine, flt, limit):
    return _ordered(engine, engine.pin(GOLD), flt, limit, descending=True).to_pylist()


def test_recent_window_answers_like_the_files_and_absorbs_appends(settings, catalog):
    gold = load(catalog, settings.catalog.namespace, "gold_trades")
    # 4 hours of BTC (one a minute), a few ETH; the window holds the newest 2 hours.
    append_gold(gold, [trade(i, t_us=T0 + i * MINUTE) for i in range(240)] + [trade(i, "ETHUSDT", t_us=T0 + i * HOUR) for i in range(4)])
    engine = QueryEngine.from_settings(settings, catalog)
    engine.tables.refresh_s = 0
    assert [r["trade_id"] for r in last_trades(engine, engine.pin(GOLD), TradeFilter("BTCUSDT"), 3).to_pylist()] == ["239", "238", "237"]
    window = engine.recent._window
    assert window is not None and engine.recent.builds == 1 and window.cutoff_us <= T0 + 239 * MINUTE - HOUR
    for flt, limit in ((TradeFilter("BTCUSDT"), 50), (TradeFilter("BTCUSDT", "binance"), 60), (TradeFilter("BTCUSDT", "kraken"), 5)):
        assert last_trades(engine, engine.pin(GOLD), flt, limit).to_pylist() == _file_walk(engine, flt, limit)
    # More than the window holds: answered from files, still exact.
    assert last_trades(engine, engine.pin(GOLD), TradeFilter("BTCUSDT"), 200).to_pylist() == _file_walk(engine, TradeFilter("BTCUSDT"), 200)
    assert [r["trade_id"] for r in last_trades(engine, engine.pin(GOLD), TradeFilter("ETHUSDT"), 10).to_pylist()] == ["3", "2", "1", "0"]
    # A drain appends newer trades and one late, older than the newest: only the new file is read.
    append_gold(gold, [trade(i, t_us=T0 + i * MINUTE) for i in range(240, 250)] + [trade(1000, t_us=T0 + 230 * MINUTE + 1)])
    got = last_trades(engine, engine.pin(GOLD), TradeFilter("BTCUSDT"), 30).to_pylist()
    assert (engine.recent.builds, engine.recent.increments) == (1, 1)
    assert got == _file_walk(engine, TradeFilter("BTCUSDT"), 30)
    assert [r["trade_id"] for r in got][:11] == [str(i) for i in range(249, 238, -1)] and "1000" in [r["trade_id"] for r in got]
    engine.close()


def test_summary_from_file_statistics_equals_one_pass_over_the_rows(settings, catalog):
    gold = load(catalog, settings.catalog.namespace, "gold_trades")
    prices = ["61837.63", "61837.64", "0.0000001234", "12345678.9"]
    # Equal times across files: open/close decided by the trade order (exchange, symbol, sequence after the time).
    rows = [
        trade(i, price=prices[i % 4], quantity="0.00000001" if i % 5 else "1234567890.12345678", t_us=T0 + (i // 2) * 7 * MINUTE) for i in range(60)
    ]
    append_gold(gold, rows[:30])
    append_gold(gold, rows[30:])
    engine = QueryEngine.from_settings(settings, catalog)
    stats = FileStats(64)
    for end in (T0 + 3 * HOUR, T0 + 3 * HOUR + 17, T0 + 100 * MINUTE, T0 + 30 * HOUR):
        got = summary(engine, stats, end, 2)
        expected = arrow_rows(
            engine.query(
                GOLD,
                """
            SELECT symbol, count(*) AS trade_count, sum(quantity) AS volume, sum(quote_quantity) AS quote_volume,
                   min(price) AS low, max(price) AS high,
                   arg_min(price, {'t': trade_time, 'e': exchange, 'n': sequence}) AS open,
                   arg_max(price, {'t': trade_time, 'e': exchange, 'n': sequence}) AS close,
                   min(trade_time) AS first_trade_time, max(trade_time) AS last_trade_time
            FROM {source} WHERE trade_time >= $start AND trade_time < $end GROUP BY symbol""",
                {"start": ts(end - 2 * HOUR), "end": ts(end)},
            )
        )
        assert [{k: v for k, v in r.items() if k != "vwap"} for r in got] == expected, end
        assert got == summary(engine, FileStats(64), end, 2)  # cached statistics answer like fresh ones
    assert any(stats._stats.values())  # whole files were answered from their statistics
    engine.close()
