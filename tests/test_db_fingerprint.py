"""Fingerprints read a value alike from the database and from a saved workbook."""

from __future__ import annotations

from xlreport.db import fingerprint


def test_numbers_read_alike_at_15_digits() -> None:
    texts = fingerprint.column_text([0.1 + 0.2, 0.3, 999.99999999999994, 1000.0, -2.5, None, 0.0, 1e-320, 287000], "number")
    assert texts[0] == texts[1] and texts[2] == texts[3]
    assert len(set(texts[3:])) == 6 and texts[5] == fingerprint.MISSING


def test_text_reads_alike_as_the_workbook_keeps_it() -> None:
    assert fingerprint.column_text(["a\r\nb", "a\nb", "  ", "", None, "x"], "text") == ["a\nb", "a\nb", "\x00", "\x00", "\x00", "x"]
