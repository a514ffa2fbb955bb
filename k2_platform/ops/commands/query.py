"""`k2 query`: SQL over K2's tables (views named after them) and shortcuts for common questions."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ...query.bars import INTERVAL_US, INTERVALS
from ...query.output import FORMATS, render
from ...query.rows import json_row, us_of
from ...query.service import QueryService
from ...query.summary import TIME_COLUMNS as SUMMARY_TIMES
from ...query.trades import TIME_COLUMNS, TRADE_COLUMNS, TradeFilter, last_trades
from ...query.views import register_views
from ...settings import EXCHANGES


def _time(text: str) -> int:
    moment = datetime.fromisoformat(text)
    return us_of(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _print_table(table, fmt: str) -> None:
    print(render(table.column_names, list(zip(*(c.to_pylist() for c in table.columns))), fmt))


def _sql(args, service: QueryService) -> int:
    con = service.engine.cursor()
    register_views(service.engine, con)
    result = con.execute(args.statement)
    columns = [d[0] for d in result.description or []]
    rows = result.fetchmany(service.settings.query.max_cli_rows)
    print(render(columns, rows, args.format))
    return 0


def _trades(args, service: QueryService) -> int:
    flt = TradeFilter(service.check_symbol(args.symbol), args.exchange)
    if args.gold_only:
        _print_table(last_trades(service.engine, service.engine.pin("gold_trades"), flt, args.last), args.format)
        return 0
    rows = [json_row(r, TIME_COLUMNS) for r in service.recent(flt, args.last).rows]
    print(render(list(TRADE_COLUMNS), [tuple(r[c] for c in TRADE_COLUMNS) for r in rows], args.format))
    return 0


def _ohlcv(args, service: QueryService) -> int:
    end = _time(args.end) if args.end else time.time_ns() // 1000
    start = _time(args.start) if args.start else end - args.limit * INTERVAL_US[args.interval]
    _print_table(service.ohlcv(service.check_symbol(args.symbol), args.interval, start, end, args.limit, args.exchange), args.format)
    return 0


def _summary(args, service: QueryService) -> int:
    rows = [json_row(r, SUMMARY_TIMES) for r in service.summary(_time(args.as_of) if args.as_of else None)]
    columns = list(rows[0]) if rows else ["symbol"]
    print(render(columns, [tuple(r[c] for c in columns) for r in rows], args.format))
    return 0


def _symbols(args, service: QueryService) -> int:
    rows = service.symbols()
    columns = ["symbol", "base", "quote", "tick_size", "lot_size", "venues"]
    print(render(columns, [tuple(str(r[c]) if c == "venues" else r[c] for c in columns) for r in rows], args.format))
    return 0


def _handler(action):
    def run(args, settings) -> int:
        service = QueryService(settings)
        try:
            return action(args, service)
        finally:
            service.close()

    return run


def register(sub) -> None:
    parser = sub.add_parser(
        "query",
        help="query K2's tables: SQL, or shortcuts for trades, bars, summary, symbols",
        description="Query the Iceberg tables with DuckDB. Output as an aligned table, CSV or JSON.",
    )
    actions = parser.add_subparsers(dest="query_action", metavar="ACTION", required=True)

    def add(name: str, help_text: str, action):
        p = actions.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
        p.set_defaults(func=_handler(action))
        return p

    p = add("sql", "run SQL; tables are views named after them, e.g. gold_trades, ohlcv_1m, instruments", _sql)
    p.add_argument("statement", help='the SQL, e.g. "select symbol, count(*) from gold_trades group by 1"')

    p = add("trades", "latest trades of a symbol (gold plus the Kafka tail, exact)", _trades)
    p.add_argument("symbol", help="canonical symbol, e.g. BTCUSDT")
    p.add_argument("--last", type=int, default=100, help="how many trades, newest first (default: 100)")
    p.add_argument("--exchange", choices=EXCHANGES, help="only this exchange")
    p.add_argument("--gold-only", action="store_true", help="skip the Kafka tail (works without a broker)")

    p = add("ohlcv", "OHLCV bars of a symbol", _ohlcv)
    p.add_argument("symbol", help="canonical symbol, e.g. BTCUSDT")
    p.add_argument("--interval", choices=INTERVALS, default="1m", help="bar size (default: 1m)")
    p.add_argument("--start", help="inclusive start, ISO 8601 (default: --limit bars before --end)")
    p.add_argument("--end", help="exclusive end, ISO 8601 (default: now)")
    p.add_argument("--limit", type=int, default=1440, help="at most this many bars (default: 1440)")
    p.add_argument("--exchange", choices=EXCHANGES, help="only this exchange's bars")

    p = add("summary", "rolling-window statistics per symbol (window from settings, default 24 h)", _summary)
    p.add_argument("--as-of", help="window end, ISO 8601 (default: now)")

    add("symbols", "known symbols and how each exchange spells them", _symbols)
