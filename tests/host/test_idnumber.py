"""The resident ID number check (host/idnumber.py over python-stdnum's cn.ric): each rule of
GB 11643 refused with the part it breaks, and neither the error nor its message carrying the
number."""
import datetime

import pytest
from stdnum.cn import ric

from host import idnumber

TODAY = datetime.date(2026, 12, 3)


def with_check_digit(first17):
    """A number whose check digit is right (ISO 7064 MOD 11-2, computed by python-stdnum)."""
    return first17 + ric.calc_check_digit(first17 + "0")


GOOD = with_check_digit("11010519880516032")     # Chaoyang, Beijing; 16 May 1988


def test_a_good_number_passes_in_its_compact_form():
    assert idnumber.check(GOOD, TODAY) == GOOD
    assert idnumber.check(" " + GOOD[:6] + " " + GOOD[6:] + " ", TODAY) == GOOD
    x = next(n for n in (with_check_digit(f"44030519900101{i:03d}") for i in range(200))
             if n.endswith("X"))
    assert idnumber.check(x.lower(), TODAY) == x          # the check digit X, typed small


def wrong_check_digit(number):
    return number[:-1] + next(c for c in "0123456789X" if c != number[-1])


@pytest.mark.parametrize("text, part", [
    (GOOD[:-1], "length"),
    (GOOD + "1", "length"),
    ("", "length"),
    (None, "length"),
    (GOOD[:5] + "A" + GOOD[6:], "characters"),
    (GOOD[:-1] + "Y", "characters"),
    (wrong_check_digit(GOOD), "check_digit"),
    # valid check digits, impossible dates: 30 February, month 13, day 00, 29 Feb 1990
    (with_check_digit("11010519900230032"), "birth_date"),
    (with_check_digit("11010519901301032"), "birth_date"),
    (with_check_digit("11010519900100032"), "birth_date"),
    (with_check_digit("11010519900229032"), "birth_date"),
    # a real date that has not happened yet, and one before 1900
    (with_check_digit("11010520990101032"), "birth_date"),
    (with_check_digit("11010518890101032"), "birth_date"),
    # region codes that were never assigned
    (with_check_digit("99999919880516032"), "region"),
    (with_check_digit("00000019880516032"), "region"),
])
def test_each_rule_is_refused_naming_its_part(text, part):
    with pytest.raises(idnumber.IdNumberInvalid) as info:
        idnumber.check(text, TODAY)
    err = info.value
    assert err.part == part and err.reason == "id_number_invalid"
    assert (err.zh, err.en) == idnumber.PARTS[part]
    if isinstance(text, str) and text:
        assert text not in str(err) and text[-8:] not in str(err)


def test_tomorrows_birthday_is_refused_today_and_accepted_tomorrow():
    born = with_check_digit("11010520261204032")
    with pytest.raises(idnumber.IdNumberInvalid):
        idnumber.check(born, TODAY)
    assert idnumber.check(born, TODAY + datetime.timedelta(days=1)) == born


def test_mask_shows_the_first_two_and_the_last_four():
    assert idnumber.mask(GOOD) == GOOD[:2] + "*" * 12 + GOOD[-4:]
