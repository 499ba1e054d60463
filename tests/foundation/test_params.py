"""Trigger-form list params: commas, semicolons and newlines; blanks dropped; lists pass through."""

import pytest

from amc_joor.params import split_list


@pytest.mark.parametrize(
    "raw,expected",
    [
        (None, []),
        ("", []),
        ("  ", []),
        ("A100, B200", ["A100", "B200"]),
        ("A100;B200\nC300,,", ["A100", "B200", "C300"]),
        (["A100", " ", "B200 "], ["A100", "B200"]),
        (100045, ["100045"]),
    ],
)
def test_split_list(raw, expected):
    assert split_list(raw) == expected
