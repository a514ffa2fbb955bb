from pathlib import Path

import pytest

from k2_platform.settings import Settings, load_settings


def test_defaults_need_no_configuration(monkeypatch):
    for var in ("K2_CONFIG", "K2_STATE_DIR", "K2_KAFKA__PORT"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert s.kafka.bootstrap == "127.0.0.1:9092"
    assert s.catalog.profile == "sql"
    assert s.catalog_uri == f"sqlite:///{Path.home() / '.k2' / 'catalog.db'}"
    assert s.topics.all() == [
        "market.crypto.trades.binance",
        "market.crypto.trades.kraken",
        "market.crypto.trades.dlq",
        "market.crypto.feed_gaps",
    ]


def test_env_overrides_file_and_file_overrides_defaults(monkeypatch, tmp_path):
    config = tmp_path / "k2.toml"
    config.write_text('state_dir = "/srv/k2"\n[kafka]\nport = 19092\npartitions = 6\n')
    monkeypatch.setenv("K2_CONFIG", str(config))
    monkeypatch.setenv("K2_KAFKA__PORT", "29092")
    s = load_settings()
    assert s.state_dir == Path("/srv/k2")
    assert s.kafka.partitions == 6
    assert s.kafka.bootstrap == "127.0.0.1:29092"


def test_missing_config_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("K2_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(FileNotFoundError, match="absent.toml, which does not exist"):
        load_settings()


def test_unknown_setting_is_rejected(monkeypatch):
    monkeypatch.delenv("K2_CONFIG", raising=False)
    with pytest.raises(ValueError, match="kafak"):
        Settings(kafak={"port": 1})


def test_a_demo_rebased_to_now_must_replay_at_recorded_pace(monkeypatch):
    monkeypatch.delenv("K2_CONFIG", raising=False)
    with pytest.raises(ValueError, match=r"demo.rebase_time='now' needs demo.speed='1' \(got 'max'\)"):
        Settings(demo={"speed": "max"})
    assert Settings(demo={"speed": "max", "rebase_time": ""}).demo.rebase_time == ""
    assert Settings().demo.rebase_time == "now"
