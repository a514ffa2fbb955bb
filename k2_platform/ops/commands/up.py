"""`k2 up`: start the local stack (Kafka; SeaweedFS for the s3 profile) and create topics and tables."""

from __future__ import annotations

from ..stack import up


def register(sub) -> None:
    p = sub.add_parser(
        "up",
        help="start Kafka (and SeaweedFS with --profile s3), create topics and Iceberg tables",
        description="Idempotent: a second `k2 up` reports what already runs.",
    )
    add_profile_argument(p)
    p.add_argument(
        "--with-monitoring", action="store_true", help="also start `k2 metrics` and a local Prometheus scraping the stack (ports: K2_MONITORING__*)"
    )
    p.set_defaults(func=run)


def run(args, settings) -> int:
    up(with_profile(settings, args.profile), with_monitoring=args.with_monitoring)
    return 0


def add_profile_argument(parser) -> None:
    parser.add_argument("--profile", choices=["sql", "s3"], help="catalog profile (default: K2_CATALOG__PROFILE or sql)")


def with_profile(settings, profile):
    if profile is None:
        return settings
    return settings.model_copy(update={"catalog": settings.catalog.model_copy(update={"profile": profile})})
