"""The unified social credit code (统一社会信用代码, GB 32100-2015).

python-stdnum computes the check character; the format follows the standard, which (unlike
stdnum's validate) allows letters in the first two positions (e.g. Y for 'other' authorities).
The database enforces the same rule with uscc_check_digit_ok().
"""

from __future__ import annotations

import re

from stdnum.cn import uscc as stdnum_uscc

FORMAT = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class InvalidUSCC(ValueError):
    pass


def normalize(code: str) -> str:
    return stdnum_uscc.compact(code)


def check_character(first17: str) -> str:
    return stdnum_uscc.calc_check_digit(first17)


def validate_uscc(code: str, *, override: bool = False) -> str:
    """The normalised code, or InvalidUSCC naming what is wrong with it."""
    code = normalize(code)
    if len(code) != 18:
        raise InvalidUSCC(f"a credit code has 18 characters, {code!r} has {len(code)}")
    if not FORMAT.match(code):
        raise InvalidUSCC(
            f"{code!r} is not a credit code: characters 3-8 are digits and no position "
            "holds I, O, S, V or Z"
        )
    expected = check_character(code[:17])
    if not override and code[17] != expected:
        raise InvalidUSCC(
            f"{code!r} fails the GB 32100 check: the 18th character should be {expected!r}"
        )
    return code


def with_check_character(first17: str) -> str:
    """Complete 17 characters into a valid code (for fictional and synthetic data)."""
    return first17 + check_character(first17)
