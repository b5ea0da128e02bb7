"""Options travel as one frozen Request, checked where it is made, named in the cache by one key."""

import dataclasses
from fractions import Fraction

import pytest

from derive import cache
from derive.errors import DeriveError
from derive.model.request import Request


@pytest.mark.parametrize("options, words", [
    ({"layout": "columns"}, "unknown layout 'columns'; choose one of: denominator, numerator"),
    ({"form": "tensor"}, "unknown form 'tensor'; choose one of: index, matrix"),
])
def test_a_bad_option_is_one_line_naming_the_choices(options, words):
    with pytest.raises(DeriveError) as caught:
        Request("affine", "W", **options)
    assert caught.value.message == words


def test_a_request_cannot_be_changed_after_it_is_checked():
    request = Request("affine", "W")
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.layout = "sideways"


def test_show_sheets_and_the_checker_name_a_derivation_by_the_same_key():
    request = Request("affine", "W", Fraction(3), "numerator", form="matrix")
    shared = cache.derivation_request({"target": "affine"}, "W", Fraction(3), "numerator")
    assert request.cache_key() == shared
    table = {"name": "cube", "expr": "x[i]**3"}
    assert request.cache_key(table) == {**table, "wrt": "W", "scale": "3", "layout": "numerator"}


def test_the_api_and_a_request_give_the_same_derivation():
    import derive
    from derive.network.chain import derive_request

    by_api = derive.derivative("affine", wrt="W", scale=3, layout="numerator")
    by_request = derive_request(Request("affine", "W", 3, "numerator"))
    assert (by_api.result, by_api.matrix.text) == (by_request.result, by_request.matrix.text)
