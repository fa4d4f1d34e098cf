"""GB 11643: check digits, the 15→18 upgrade, number cells, masking."""

import pytest

from fupin import ids

# A published example of the standard: 11010519491231002X.
KNOWN_GOOD = "11010519491231002X"


def test_check_digit_of_published_example():
    assert ids.check_digit(KNOWN_GOOD[:17]) == "X"
    assert ids.is_valid(KNOWN_GOOD)


def test_every_wrong_check_digit_is_refused():
    body = KNOWN_GOOD[:17]
    for c in "0123456789":
        assert ids.parse_id(body + c, home_prefix="11").rule == "id_check_digit"


def test_lower_case_x_and_spaces_are_normalised():
    res = ids.parse_id(" 11010519491231002x ", home_prefix="11")
    assert res.value == KNOWN_GOOD and res.rule is None


def test_fifteen_digits_upgrade_with_century_and_check_digit():
    # 15-digit 110105491231002 is the legacy form of 11010519491231002X.
    assert ids.upgrade15("110105491231002") == KNOWN_GOOD
    res = ids.parse_id("110105491231002", home_prefix="11")
    assert res.value == KNOWN_GOOD and res.warning == "id_upgraded"


def test_fifteen_digit_number_cell_is_exact_and_upgraded():
    res = ids.parse_id(110105491231002, home_prefix="11")
    assert res.value == KNOWN_GOOD


@pytest.mark.parametrize("cell", [4.40224198001011e17, 440224198001011008, 440224198001011000.0, "4.40224198001011E+17", "440224198001011234.0"])
def test_eighteen_digits_stored_as_a_number_are_never_fixed(cell):
    res = ids.parse_id(cell)
    assert res.value is None and res.rule == "id_as_number"


def test_invalid_birth_date_is_refused():
    body = "44022419801301001"  # month 13
    assert ids.parse_id(body + ids.check_digit(body)).rule == "id_birth_date"


def test_other_province_is_a_warning_not_an_error():
    res = ids.parse_id(KNOWN_GOOD, home_prefix="44")
    assert res.value == KNOWN_GOOD and res.rule is None and res.warning == "id_region"


def test_mask_hides_birth_date_and_sequence():
    assert ids.mask("44022419800101123X") == "440224********123X"
    assert "19800101" not in ids.mask("44022419800101123X")


def test_a_column_takes_at_once_exactly_the_ids_parse_id_takes_as_they_are():
    from fupin.ids import check_digit, parse_id, plain_valid

    good = "440224198001011230"[:17] + check_digit("44022419800101123")
    other_region = "110101198001011230"[:17] + check_digit("11010119800101123")
    body = next(b for b in (f"4402241980010112{n:01d}" for n in range(10)) if check_digit(b) == "X")
    cells = [good, body + "x", f" {good}", other_region, good[:-1] + ("0" if good[-1] != "0" else "1"), "440224198002301234",
             "440224800101123", "٤٤٠٢٢٤" + good[6:], 440224198001011230, None, "", True]
    taken = plain_valid(cells, "440224").tolist()
    assert taken == [True] + [False] * (len(cells) - 1) and plain_valid([body + "X"], "440224").tolist() == [True]
    as_is = [isinstance(c, str) and (r := parse_id(c, "440224")).value == c and not r.rule and not r.warning for c in cells]
    assert taken == as_is
