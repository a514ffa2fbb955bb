"""`k2 query` end to end through the CLI entry point, against a real catalog."""

from __future__ import annotations

import csv
import io
import json

from k2_platform.lakehouse.tables import load
from k2_platform.ops.cli import main

from .gold_fixtures import append_gold, trade


def test_k2_query_sql_and_trades_shortcut(settings, catalog, monkeypatch, capsys):
    append_gold(
        load(catalog, settings.catalog.namespace, "gold_trades"),
        [trade(i) for i in range(1, 11)] + [trade(1, "SHIBUSDT", price="0.0000001234", quantity="46116860414")],
        {},
    )
    monkeypatch.setenv("K2_STATE_DIR", str(settings.state_dir))
    assert main(["query", "sql", "select symbol, count(*) as n, sum(quantity) as q from gold_trades group by 1 order by 1", "--format", "csv"]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [
        ["symbol", "n", "q"],
        ["BTCUSDT", "10", "0.2"],
        ["SHIBUSDT", "1", "46116860414"],
    ]
    assert main(["query", "trades", "SHIBUSDT", "--last", "5", "--gold-only", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["price"], row["quantity"]) == ("0.0000001234", "46116860414")
    assert main(["query", "trades", "BTCUSDT", "--last", "3", "--gold-only"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["message_id", "exchange"] and lines[-1] == "(3 rows)"
    assert main(["query", "trades", "NOPEUSDT", "--gold-only"]) != 0
