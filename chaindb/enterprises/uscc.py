"""The unified social credit code (统一社会信用代码, GB 32100-2015).

python-stdnum computes the check character; the format follows the standard, which (unlike
stdnum's validate) allows letters in the first two positions (e.g. Y for 'other' authorities).
The database enforces the same rule with uscc_check_digit_ok().
"""

from __future__ import annotations

import re
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from chaindb.errors import N_, Message

FORMAT = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class InvalidUSCC(ValueError):
    """What is wrong with a code: str() in English; .message (a Message) for the pages too."""

    def __init__(self, template: str, **params: Any) -> None:
        self.message = Message(template, params)
        self.check_failed = False  # the format is right, the check character is not
        super().__init__(str(self.message))


def normalize(code: str) -> str:
    return stdnum_uscc.compact(code)


def check_character(first17: str) -> str:
    return stdnum_uscc.calc_check_digit(first17)


def validate_uscc(code: str, *, override: bool = False) -> str:
    """The normalised code, or InvalidUSCC naming what is wrong with it."""
    code = normalize(code)
    if len(code) != 18:
        raise InvalidUSCC(
            N_("a credit code has 18 characters, %(code)r has %(length)s"),
            code=code,
            length=len(code),
        )
    if not FORMAT.match(code):
        raise InvalidUSCC(
            N_(
                "%(code)r is not a credit code: characters 3-8 are digits and no position "
                "holds I, O, S, V or Z"
            ),
            code=code,
        )
    expected = check_character(code[:17])
    if not override and code[17] != expected:
        error = InvalidUSCC(
            N_("%(code)r fails the GB 32100 check: the 18th character should be %(expected)r"),
            code=code,
            expected=expected,
        )
        error.check_failed = True
        raise error
    return code


def with_check_character(first17: str) -> str:
    """Complete 17 characters into a valid code (for fictional and synthetic data)."""
    return first17 + check_character(first17)
