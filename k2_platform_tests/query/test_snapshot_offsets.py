"""A gold commit without offsets (compaction, a repair) keeps every row: the hybrid read must keep
continuing from the offsets of the last snapshot that recorded them, never from the start."""

from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.tables import ensure_all_tables
from k2_platform.query.engine import QueryEngine
from k2_platform.settings import Settings

from .gold_fixtures import append_gold, trade


def test_kafka_offsets_survive_a_commit_that_records_none(tmp_path):
    settings = Settings(state_dir=tmp_path / "state")
    catalog = open_catalog(settings)
    gold = ensure_all_tables(catalog, "market")["gold_trades"]
    append_gold(gold, [trade(1), trade(2)], kafka_offsets={"t.binance": {0: 2, 1: 5}})
    engine = QueryEngine.from_settings(settings, catalog=catalog)
    assert engine.pin("gold_trades", fresh=True).kafka_offsets() == {"t.binance": {0: 2, 1: 5}}

    append_gold(gold.refresh(), [trade(3)], kafka_offsets=None)
    pinned = engine.pin("gold_trades", fresh=True)
    assert pinned.snapshot.summary.additional_properties.get("k2.kafka_offsets") is None
    assert pinned.kafka_offsets() == {"t.binance": {0: 2, 1: 5}}
