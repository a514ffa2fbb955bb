"""Failure drills (`k2 chaos <scenario>`, `k2 chaos all`): real processes, a real fault, then a reconciliation
of the source (the recording) against gold_trades: every trade exactly once, exact decimals, gaps explained in
feed_gaps, rejects in trades_dlq with a reason.

A scenario is one module here with:
  NAME: str                          the subcommand, e.g. "ingest-kill"
  HELP: str                          one line for `k2 chaos --help`
  add_arguments(parser) -> None      its options, added with parser.add_argument("--kills", type=int, default=5, help=...)
                                     (long options only; `k2 chaos all` prefixes them with NAME, so options never clash)
  scenario(args, settings, recordings, work_dir, progress) -> result.ChaosResult
        args: argparse.Namespace holding just this scenario's options, under their own names (args.kills)
        settings: Settings of an isolated stack (stack.drill_stack): the broker, fresh topics, a fresh catalog namespace
                  (sql profile: its own SQL catalog and warehouse in work_dir)
        recordings: list[Path] of the recordings to replay (settings.demo.recordings)
        work_dir: Path, a temporary directory for logs, deleted afterwards
        progress: Callable[[str], None] for progress lines (stderr)
and it is plugged in by adding the module to `_SCENARIOS` in ops/commands/chaos.py.

Shared parts: children (the replay exchange, `k2 ingest` as processes), feed (one ingest run under replay
faults; the gold ending every feed drill has), medallion (drain Kafka to gold with the real steps until no
backlog), gold_reconcile (recording vs gold, feed_gaps, trades_dlq), reconcile (recording vs Kafka).
"""
