"""drain_feed_gaps: trade-id gaps the feeds detected, drained from Kafka exactly once."""

from __future__ import annotations

from ..checks.report import WARN
from ..lakehouse import quality
from ..lakehouse.backlog import feed_gaps_backlog
from ..lakehouse.feed_gaps import TABLE, drain_feed_gaps
from .drain_asset import BatchCheck, DrainStep, one_table, table_spec
from .kafka_sources import FEED_GAPS_TOPIC_KEY

FEED_GAPS = DrainStep(
    name="drain_feed_gaps",
    tables=(
        table_spec(
            TABLE,
            "bronze",
            "Trade-id gaps detected by the feeds (exchange, symbol, missing id range) and whether REST history repaired them.",
            deps=[FEED_GAPS_TOPIC_KEY],
            kinds=("kafka", "iceberg"),
        ),
    ),
    backlog=feed_gaps_backlog,
    drain=one_table(TABLE, drain_feed_gaps),
    # gaps are facts to store even when unrepaired: WARN, never stops the write
    checks=(
        BatchCheck("feed_gaps_repaired", TABLE, quality.gaps_repaired, "No unexplained trade-id gaps: every gap in this run was repaired.", WARN),
    ),
    description="Kafka feed-gaps topic end offsets vs feed_gaps' k2.offsets -> one run per offset range.",
)
