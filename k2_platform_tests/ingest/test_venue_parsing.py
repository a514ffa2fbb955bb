"""Frame parsing of both venues: exact decimals from raw text, sides, symbols, vendor data, reasons."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from k2_platform.ingest.binance import BinanceVenue
from k2_platform.ingest.kraken import KrakenVenue, rfc3339_us
from k2_platform.ingest.normalize import Normalizer, now_us
from k2_platform.ingest.venue import FrameRejected
from k2_platform.schemas.codec import TradeDecoder
from k2_platform.schemas.ingest_reject import STAGE_NORMALIZE, STAGE_PARSE
from k2_platform.schemas.instruments import default_instruments
from k2_platform.schemas.trade import message_id

RECORDED = (
    '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,'
    '"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}'
)


def venue(cls):
    return cls(Normalizer(cls.name, default_instruments(), max_future_skew_s=5.0), None)


def records(parsed) -> list[dict]:
    """The trades of a parsed frame as Kafka consumers will read them."""
    codec = TradeDecoder()
    trades, _ = parsed
    return [codec.decode(t.value) for t in trades]


def kraken_frame(**row) -> str:
    base = {"symbol": "XBT/USD", "side": "buy", "price": 1, "qty": 1, "ord_type": "limit", "trade_id": 7, "timestamp": "2024-08-08T23:54:15.342123Z"}
    return json.dumps({"channel": "trade", "type": "update", "data": [{**base, **row}]})


def test_binance_frame_becomes_an_exact_normalized_trade():
    received = now_us()
    parsed = venue(BinanceVenue).parse(RECORDED, received)
    (trade,) = records(parsed)
    assert (trade["exchange"], trade["symbol"], trade["exchange_symbol"], trade["base"], trade["quote"], trade["trade_id"]) == (
        "binance",
        "BTCUSDT",
        "BTCUSDT",
        "BTC",
        "USDT",
        "3735683259",
    )
    assert trade["message_id"] == message_id("binance", "BTCUSDT", "3735683259")
    assert trade["price"] == Decimal("61837.63") and trade["quantity"] == Decimal("0.02")
    assert trade["quote_quantity"] == Decimal("1236.7526")
    assert trade["side"] == "SELL"  # buyer is maker: the seller hit the bid
    assert (trade["trade_time"], trade["event_time"], trade["sequence"]) == (1723161255342000, 1723161255343000, 3735683259)
    assert trade["ingest_time"] == received and trade["schema_version"] == 2
    assert trade["vendor_data"] == {"e": "trade", "m": "true", "M": "true"}
    (wire,), _ = parsed
    assert (wire.venue_symbol.key, wire.venue_symbol.kafka_key, wire.sequence, wire.trade_time) == (
        ("binance", "BTCUSDT"),
        b"BTCUSDT",
        3735683259,
        1723161255342000,
    )


def test_binance_frame_with_unusual_fields_keeps_them_all_in_vendor_data():
    frame = RECORDED.replace('"M":true', '"M":"yes","X":[1,2],"n":null')
    (trade,) = records(venue(BinanceVenue).parse(frame, now_us()))
    assert trade["vendor_data"] == {"e": "trade", "m": "true", "M": "yes", "X": "[1, 2]", "n": "null"}


def test_binance_extremes_stay_exact():
    frame = (
        RECORDED.replace('"s":"BTCUSDT"', '"s":"SHIBUSDT"')
        .replace('"61837.63000000"', '"0.0000001234"')
        .replace('"0.02000000"', '"46116860414.00000000"')
        .replace('"m":true', '"m":false')
    )
    (trade,) = records(venue(BinanceVenue).parse(frame, now_us()))
    assert trade["price"] == Decimal("0.0000001234") and trade["quantity"] == Decimal("46116860414")
    assert trade["quote_quantity"] == Decimal("5690.8205750876") and "k2_quote_quantity_rounded" not in trade["vendor_data"]
    assert trade["side"] == "BUY" and trade["symbol"] == "SHIBUSDT"


@pytest.mark.parametrize(
    "change, stage, reason",
    [
        (lambda f: f[:60], STAGE_PARSE, "not JSON"),
        (lambda f: f.replace('"s":"BTCUSDT"', '"s":"NOPEUSDT"'), STAGE_NORMALIZE, "unknown symbol 'NOPEUSDT' on binance"),
        (lambda f: f.replace('"61837.63000000"', '"abc"'), STAGE_NORMALIZE, "price: 'abc' is not a decimal number"),
        (lambda f: f.replace('"61837.63000000"', "61837.63"), STAGE_NORMALIZE, "price: expected a decimal number"),
        (lambda f: f.replace('"0.02000000"', '"-0.5"'), STAGE_NORMALIZE, "quantity: -0.5 is not positive"),
        (lambda f: f.replace('"0.02000000"', '"0.0000000000000000001"'), STAGE_NORMALIZE, "more than 18 decimal places"),
        (lambda f: f.replace('"61837.63000000"', '"123456789012345678901.5"'), STAGE_NORMALIZE, "more than 20 integer digits"),
        (lambda f: f.replace('"t":3735683259,', ""), STAGE_NORMALIZE, "lacks field 't'"),
        (lambda f: f.replace('"e":"trade"', '"e":"kline"'), STAGE_PARSE, "unexpected event type 'kline'"),
        (lambda f: f.replace('"m":true', '"m":"true"'), STAGE_NORMALIZE, "m: expected true or false"),
        (lambda f: f.replace('"t":3735683259', '"t":123456789012345678901234567890'), STAGE_NORMALIZE, "t: expected a non-negative integer"),
    ],
)
def test_binance_rejects_carry_the_stage_and_reason(change, stage, reason):
    try:
        _, rejects = venue(BinanceVenue).parse(change(RECORDED), now_us())
    except FrameRejected as exc:
        rejects = [exc]
    assert len(rejects) == 1 and rejects[0].stage == stage and reason in str(rejects[0])


def test_binance_future_trade_time_is_rejected():
    frame = RECORDED.replace('"T":1723161255342', f'"T":{now_us() // 1000 + 60_000}')
    _, (reject,) = venue(BinanceVenue).parse(frame, now_us())
    assert "ahead of our clock" in str(reject)


def test_kraken_numbers_are_parsed_from_their_text_never_through_float():
    # As a float, 0.100000000000000006 is 0.1: the exact text must survive.
    frame = kraken_frame(price="PRICE", qty="QTY").replace('"PRICE"', "0.100000000000000006").replace('"QTY"', "46116860414.123456789")
    (trade,) = records(venue(KrakenVenue).parse(frame, now_us()))
    assert trade["price"] == Decimal("0.100000000000000006") and trade["quantity"] == Decimal("46116860414.123456789")


def test_kraken_xbt_and_btc_are_one_canonical_instrument():
    k = venue(KrakenVenue)
    xbt_frame, btc_frame = (k.parse(kraken_frame(symbol=s, price="P").replace('"P"', "105433.6"), now_us()) for s in ("XBT/USD", "BTC/USD"))
    assert xbt_frame[0][0].venue_symbol.key == btc_frame[0][0].venue_symbol.key == ("kraken", "BTCUSD")
    (xbt,), (btc,) = records(xbt_frame), records(btc_frame)
    assert xbt["symbol"] == btc["symbol"] == "BTCUSD" and xbt["message_id"] == btc["message_id"]
    assert (xbt["exchange_symbol"], btc["exchange_symbol"]) == ("XBT/USD", "BTC/USD")
    assert xbt["price"] == Decimal("105433.6") and xbt["side"] == "BUY" and xbt["event_time"] is None
    assert xbt["trade_time"] == 1723161255342123 == rfc3339_us("2024-08-08T23:54:15.342123Z")
    assert xbt["vendor_data"] == {"ord_type": "limit", "frame_type": "update"}


def test_kraken_control_frames_give_no_trades():
    k = venue(KrakenVenue)
    for frame in (
        '{"channel":"heartbeat"}',
        '{"channel":"status","type":"update","data":[{"system":"online"}]}',
        '{"method":"pong","req_id":3}',
        '{"method":"subscribe","success":true,"result":{"channel":"trade"}}',
    ):
        parsed = k.parse(frame, 1)
        assert parsed == ((), ())


def test_kraken_one_bad_trade_does_not_reject_its_neighbours():
    good = json.loads(kraken_frame(trade_id=8))["data"][0]
    frame = json.loads(kraken_frame(price="abc"))
    frame["data"].append(good)
    parsed = venue(KrakenVenue).parse(json.dumps(frame), now_us())
    assert [t["trade_id"] for t in records(parsed)] == ["8"]
    _, (reject,) = parsed
    assert "data[0]: price: 'abc' is not a decimal number" in str(reject)


def test_kraken_numbers_beyond_decimal_38_18_are_rejected():
    frame = kraken_frame(price="P").replace('"P"', "1e30")
    _, (reject,) = venue(KrakenVenue).parse(frame, now_us())
    assert "integer digits" in str(reject)


def test_quote_quantity_beyond_18_places_is_stored_at_scale_18_and_flagged():
    frame = (
        RECORDED.replace('"s":"BTCUSDT"', '"s":"PEPEUSDT"')
        .replace('"61837.63000000"', '"0.0000001234"')
        .replace('"0.02000000"', '"46116860414.123456789"')
    )
    (trade,) = records(venue(BinanceVenue).parse(frame, now_us()))
    assert trade["quantity"] == Decimal("46116860414.123456789")  # the venue's values stay exact
    # exact product 5690.8205751028345677626 (19 places), rounded half-even
    assert trade["quote_quantity"] == Decimal("5690.820575102834567763")
    assert trade["vendor_data"] == {"e": "trade", "m": "true", "M": "true", "k2_quote_quantity_rounded": "true"}


def test_exact_products_with_many_stated_places_are_not_flagged():
    frame = RECORDED.replace('"61837.63000000"', '"0.1000000000"').replace('"0.02000000"', '"0.100000000"')
    (trade,) = records(venue(BinanceVenue).parse(frame, now_us()))
    assert trade["quote_quantity"] == Decimal("0.01") and "k2_quote_quantity_rounded" not in trade["vendor_data"]


def test_values_with_trailing_zeros_beyond_18_places_are_exact_not_errors():
    frame = RECORDED.replace('"0.02000000"', '"0.020000000000000000000000"')
    (trade,) = records(venue(BinanceVenue).parse(frame, now_us()))
    assert trade["quantity"] == Decimal("0.02")
