"""Frames the feeds reject, as written to the DLQ topic (`settings.topics.dlq`).

Kafka record: value = the raw frame bytes exactly as the venue sent them (never re-serialized);
key = exchange; headers (all UTF-8):
  k2-stage        where it failed: "ingest.parse" (not JSON / not a frame we know) or
                  "ingest.normalize" (a trade with a bad or unknown value)
  k2-reason       the human-readable reason, e.g. "price: 'abc' is not a decimal number"
  k2-exchange     venue the frame came from
  k2-received-at  when we received it, µs since epoch (decimal text)
"""

from __future__ import annotations

from dataclasses import dataclass

STAGE_PARSE = "ingest.parse"
STAGE_NORMALIZE = "ingest.normalize"


@dataclass(frozen=True)
class IngestReject:
    exchange: str
    stage: str
    reason: str
    raw: bytes
    received_at: int  # µs since epoch

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("k2-stage", self.stage.encode()),
            ("k2-reason", self.reason.encode()),
            ("k2-exchange", self.exchange.encode()),
            ("k2-received-at", str(self.received_at).encode()),
        ]

    @classmethod
    def from_kafka(cls, value: bytes, headers: list[tuple[str, bytes]] | None) -> IngestReject:
        found = {k: v.decode(errors="replace") for k, v in headers or [] if v is not None}
        return cls(
            exchange=found.get("k2-exchange", ""),
            stage=found.get("k2-stage", ""),
            reason=found.get("k2-reason", "(no reason header)"),
            raw=value or b"",
            received_at=int(found.get("k2-received-at") or 0),
        )
