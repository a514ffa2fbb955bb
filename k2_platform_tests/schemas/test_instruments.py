from decimal import Decimal

import pytest

from k2_platform.schemas.instruments import UnknownInstrument, default_instruments


def test_kraken_xbt_and_btc_spellings_are_one_instrument():
    reg = default_instruments()
    assert reg.by_venue("kraken", "XBT/USD").symbol == "BTCUSD"
    assert reg.by_venue("kraken", "BTC/USD").symbol == "BTCUSD"
    assert reg.by_venue("kraken", "BTC/USD") is reg.by_venue("kraken", "XBT/USD")
    assert reg.venue_symbol("kraken", "BTCUSD") == "BTC/USD"


def test_binance_symbol_is_canonical_with_base_and_quote():
    inst = default_instruments().by_venue("binance", "btcusdt")
    assert (inst.symbol, inst.base, inst.quote, inst.tick_size) == ("BTCUSDT", "BTC", "USDT", Decimal("0.01"))


def test_unknown_symbol_is_a_clear_error():
    with pytest.raises(UnknownInstrument, match="unknown symbol 'DOGEBTC' on binance"):
        default_instruments().by_venue("binance", "DOGEBTC")
    with pytest.raises(UnknownInstrument, match="BTCUSD is not listed on binance"):
        default_instruments().venue_symbol("binance", "BTCUSD")
