"""Admission by consecutive trade id: new, redelivered, gaps, and late fills of unrepaired gaps."""

from __future__ import annotations

from k2_platform.ingest.sequencer import Sequencer, Verdict

KEY = ("binance", "BTCUSDT")


def admit(seq: Sequencer, trade_id: int) -> Verdict:
    verdict = seq.check(KEY, trade_id)
    if verdict is not Verdict.DUPLICATE:
        seq.accept(KEY, trade_id, trade_id * 10)
    return verdict


def test_consecutive_ids_are_new_and_replays_are_duplicates():
    seq = Sequencer(open_range_window=4)
    assert [admit(seq, i) for i in (100, 101, 102)] == [Verdict.NEW] * 3
    assert [seq.check(KEY, i) for i in (100, 101, 102)] == [Verdict.DUPLICATE] * 3
    assert seq.check(KEY, 105) is Verdict.GAP and seq.next_id(KEY) == 103 and seq.last_time_us(KEY) == 1020


def test_unrepaired_ids_are_remembered_and_admitted_once_when_they_turn_up():
    seq = Sequencer(open_range_window=4)
    admit(seq, 100)
    seq.accept(KEY, 101, 1)
    seq.close_gap(KEY, 102, 110, repaired_ids=[103, 104, 108])  # 102, 105-107, 109-110 still missing
    assert seq.next_id(KEY) == 111
    assert [seq.check(KEY, i) for i in range(101, 112)] == [
        Verdict.DUPLICATE,
        Verdict.NEW,
        Verdict.DUPLICATE,
        Verdict.DUPLICATE,
        Verdict.NEW,
        Verdict.NEW,
        Verdict.NEW,
        Verdict.DUPLICATE,
        Verdict.NEW,
        Verdict.NEW,
        Verdict.NEW,
    ]
    admit(seq, 106)
    assert seq.check(KEY, 106) is Verdict.DUPLICATE and seq.check(KEY, 105) is Verdict.NEW and seq.check(KEY, 107) is Verdict.NEW


def test_the_window_of_missing_ranges_is_bounded():
    seq = Sequencer(open_range_window=2)
    admit(seq, 0)
    for n in range(5):
        seq.close_gap(KEY, 10 * n + 1, 10 * n + 1, repaired_ids=[])
    assert seq.forgotten_ranges == 3
    assert seq.check(KEY, 1) is Verdict.DUPLICATE and seq.check(KEY, 41) is Verdict.NEW


def test_take_next_takes_only_the_next_id_of_a_known_symbol():
    seq = Sequencer(open_range_window=4)
    assert not seq.take_next(KEY, 100, 1000)  # first sight: check() decides
    admit(seq, 100)
    assert seq.take_next(KEY, 101, 1010) and seq.next_id(KEY) == 102 and seq.last_time_us(KEY) == 1010
    seq.close_gap(KEY, 102, 103, repaired_ids=[])
    for trade_id in (101, 102, 105):  # redelivery, a remembered missing id, a gap: all left to check()
        assert not seq.take_next(KEY, trade_id, 2000)
    assert seq.next_id(KEY) == 104 and seq.last_time_us(KEY) == 1010 and seq.check(KEY, 102) is Verdict.NEW
