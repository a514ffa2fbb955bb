"""Which gold hours changed since a snapshot, from the snapshots' manifests, also after snapshot expiry."""

from __future__ import annotations

from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.gold_changes import gold_changes
from k2_platform.lakehouse.tables import ensure_all_tables, load
from k2_platform.settings import Settings
from k2_platform_tests.query.gold_fixtures import T0, append_gold, trade

HOUR = 3_600_000_000
H0 = T0 // HOUR  # the hour partition value (hours since the epoch) of T0


def test_hours_of_added_files_since_a_sequence_number_and_after_expiry(tmp_path):
    catalog = open_catalog(Settings(state_dir=tmp_path / "state"))
    ensure_all_tables(catalog, "market")
    gold = load(catalog, "market", "gold_trades")
    append_gold(gold, [trade(1), trade(2, t_us=T0 + HOUR)], {})
    first = gold_changes(gold, None)
    assert first.hours == {H0, H0 + 1} and first.head_sequence == 1
    append_gold(gold, [trade(3, t_us=T0 + 3 * HOUR)], {})
    append_gold(gold, [trade(4, t_us=T0 - 5 * HOUR)], {})  # late: an hour long before the others
    assert gold_changes(gold, 1).hours == {H0 + 3, H0 - 5}
    assert gold_changes(gold, 3).hours == frozenset() and gold_changes(gold, 2).hours == {H0 - 5}

    # Snapshots 2 and 3 expire before the reader looked at them: their surviving files still count.
    ids = [s.snapshot_id for s in sorted(gold.snapshots(), key=lambda s: s.sequence_number)]
    append_gold(gold, [trade(5, t_us=T0 + 7 * HOUR)], {})
    gold.maintenance.expire_snapshots().by_ids(ids[1:3]).commit()
    assert gold_changes(load(catalog, "market", "gold_trades"), 1).hours == {H0 + 3, H0 - 5, H0 + 7}
    assert gold_changes(load(catalog, "market", "gold_trades"), 3).hours == {H0 + 7}  # seq 3 expired: it was processed
