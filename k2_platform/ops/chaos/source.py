"""The source of the platform drills: trades produced to the drill's Kafka trade topics with the real
encoder, each known by its message_id and its exact decimals, so gold can be reconciled trade by trade."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from confluent_kafka import KafkaException, Producer

from ...schemas.trade import Trade
from ...schemas.trade_encoder import TradeEncoder
from ...settings import Settings

BASE_US = 1_723_161_255_342_000  # 2024-08-08 23:54:15 UTC, the shared recordings' start
# Extremes of decimal(38,18) that a float would round: a sub-satoshi price, an 11-digit quantity.
PRICES = (Decimal("61837.63000000"), Decimal("0.0000001234"), Decimal("105433.6"))
QUANTITIES = (Decimal("0.02000000"), Decimal("46116860414"), Decimal("0.00012"))
VENUES = {"binance": ("BTCUSDT", "BTCUSDT", "BTC", "USDT"), "kraken": ("BTCUSD", "XBT/USD", "BTC", "USD")}


@dataclass(frozen=True)
class SourceTrade:
    exchange: str
    trade_id: str
    price: Decimal
    quantity: Decimal


def numbered_trade(exchange: str, i: int) -> Trade:
    """Trade number i of `exchange`: distinct trade ids, the decimals cycling through the extremes (also the tests' input)."""
    symbol, venue, base, quote = VENUES[exchange]
    return Trade(
        exchange=exchange,
        symbol=symbol,
        exchange_symbol=venue,
        base=base,
        quote=quote,
        trade_id=str(10_000_000 + i),
        price=PRICES[i % 3],
        quantity=QUANTITIES[i % 3],
        side="BUY" if i % 2 else "SELL",
        trade_time=BASE_US + i * 7_000,
        ingest_time=BASE_US + i * 7_000 + 900,
        sequence=i,
        event_time=BASE_US + i * 7_000 + 1,
        vendor_data={"m": str(bool(i % 2)).lower()},
    )


def source_trade(i: int) -> Trade:
    """Trade number i, two thirds Binance and a third Kraken."""
    return numbered_trade("binance" if i % 3 else "kraken", i)


@dataclass
class Source:
    """Everything a drill produced: message_id -> the trade gold must hold exactly once."""

    trades: dict[str, SourceTrade] = field(default_factory=dict)
    delivery_errors: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.trades)


class SourceProducer:
    """An idempotent producer (acks=all, retried until delivered): a broker that goes away and comes back
    gets every record exactly once. Use as a context manager; leaving it flushes."""

    def __init__(self, settings: Settings, source: Source | None = None, flush_timeout_s: float = 300.0):
        self.settings, self.source, self.flush_timeout_s = settings, source or Source(), flush_timeout_s
        self.encoder = TradeEncoder()
        self.producer = Producer(
            {
                "bootstrap.servers": settings.kafka.bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 20,
                "batch.num.messages": 10_000,
                "queue.buffering.max.messages": 200_000,
                "compression.type": "lz4",
                # The broker-restart drill stops the broker on purpose: no line per refused connection (syslog
                # level 2, critical only); a record that is not delivered in the end is still recorded by _delivered.
                "log_level": 2,
                "delivery.timeout.ms": int(flush_timeout_s * 1000),
            }
        )

    def produce(self, numbers: range) -> None:
        for i in numbers:
            t = source_trade(i)
            record = t.to_avro()
            value = self.encoder.encode(record)
            while True:
                try:
                    self.producer.produce(self.settings.topics.trades(t.exchange), value, key=t.symbol.encode(), on_delivery=self._delivered)
                    break
                except BufferError:  # queue full (e.g. the broker is away): wait for deliveries, then retry
                    self.producer.poll(0.1)
            self.source.trades[record["message_id"]] = SourceTrade(t.exchange, t.trade_id, t.price, t.quantity)
            if i % 5_000 == 0:
                self.producer.poll(0)

    def _delivered(self, err, _msg) -> None:
        if err is not None:
            self.source.delivery_errors.append(str(err))

    def __enter__(self) -> SourceProducer:
        return self

    def __exit__(self, *exc) -> None:
        left = self.producer.flush(self.flush_timeout_s)
        if left and exc[0] is None:
            raise KafkaException(f"{left} trades still undelivered after {self.flush_timeout_s:.0f}s")
