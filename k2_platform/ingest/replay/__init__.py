"""The local replay exchange: recorded trades served over the Binance and Kraken protocols."""
