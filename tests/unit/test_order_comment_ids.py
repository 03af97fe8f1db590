"""The client order id in an MT5 comment: exact, closed by ``;``, never a prefix."""

from __future__ import annotations

import pytest

from mt5guard.orders.reconcile import comment_id, id_comment


@pytest.mark.parametrize(("comment", "expected"), [
    ("mg-A1;", "A1"),
    ("mg-A1; my strategy", "A1"),
    ("mg-A1;[sl 1.08]", "A1"),  # the server changed the end: the id survives
    ("mg-A1", None),  # cut short before its ``;``: not a complete id, matches nothing
    ("mg-A12345", None),  # a longer id cut by the 31-character limit is no shorter one
    ("mg-A1 extra;", None),
    ("x mg-A1;", None),  # the id comes first or not at all
    ("MG-A1;", None),
    ("mg-;", None),
    ("mg-" + "a" * 21 + ";", None),  # longer than an id can be
    ("", None),
    (None, None),
    (42, None),
])
def test_a_comment_carries_an_id_only_when_it_starts_with_it_and_closes_it(
        comment: object, expected: str | None) -> None:
    assert comment_id(comment) == expected


def test_the_id_comes_first_and_the_users_text_is_cut_to_fit() -> None:
    assert id_comment("A1") == "mg-A1;"
    text = id_comment("ABCDEFGHIJ0123456789", "a long strategy note", limit=31)
    assert len(text) == 31 and comment_id(text) == "ABCDEFGHIJ0123456789"
