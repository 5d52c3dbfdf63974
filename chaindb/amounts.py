"""Money as the offices write it, in 亿元 and 万元: in words, and the guard against a slip of units.

A clerk who types an amount in 万元 into a field in 亿元 makes it 10,000 times too large (100000
亿元 for 10 亿元), and one such project outweighs every other on the home page. Amounts beyond a
plausible range (settings, see chaindb.config) are saved only once the person confirms them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chaindb.errors import CONFIRM_LARGE_AMOUNT, N_, ConfirmRequired, Message

YUAN_PER = {"亿元": Decimal(10) ** 8, "万元": Decimal(10) ** 4}
# A slip of units is a factor of 10,000: 万元 typed as 亿元, 元 typed as 万元.
SLIP = Decimal(10_000)
CHINESE_SCALES = (
    (Decimal(10) ** 12, "万亿元"),
    (Decimal(10) ** 8, "亿元"),
    (Decimal(10) ** 4, "万元"),
)
ENGLISH_SCALES = (
    (Decimal(10) ** 12, "trillion yuan"),
    (Decimal(10) ** 9, "billion yuan"),
    (Decimal(10) ** 6, "million yuan"),
)


def plain(number: Decimal, places: int = 4) -> str:
    """12.5, 10, 0.0001: at most `places` decimals, no trailing zeros, no exponent."""
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP).normalize()
    text = format(rounded, "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def words(yuan: Decimal, scales: tuple[tuple[Decimal, str], ...], rest: str) -> str:
    for size, name in scales:
        if yuan >= size:
            return f"{plain(yuan / size)} {name}"
    return f"{plain(yuan, 2)} {rest}"


class InWords(Message):
    """An amount of yuan in words: "10 万亿元" on a Chinese page, "10 trillion yuan" in English
    (the API's face and the English pages)."""

    __slots__ = ("yuan",)

    def __init__(self, yuan: Decimal) -> None:
        super().__init__("")
        self.yuan = yuan

    def __str__(self) -> str:
        return words(self.yuan, ENGLISH_SCALES, "yuan")

    def localized(self) -> str:
        from flask import has_request_context
        from flask_babel import get_locale

        if has_request_context() and str(get_locale() or "zh") == "zh":
            return words(self.yuan, CHINESE_SCALES, "元")
        return str(self)


def confirm_amounts(
    values: Mapping[str, Any],
    *,
    limit: Decimal,
    unit: str,
    confirmed: Iterable[str],
    unchanged: Mapping[str, Any] | None = None,
) -> None:
    """Refuse (ConfirmRequired) the amounts in `values` above `limit` (in `unit`, 亿元 or 万元)
    unless "large_amount" is confirmed; an amount the record already had is not asked again."""
    if CONFIRM_LARGE_AMOUNT in confirmed:
        return
    per = YUAN_PER[unit]
    details = []
    for field, amount in values.items():
        if amount is None or amount <= limit:
            continue
        if unchanged is not None and unchanged.get(field) == amount:
            continue
        message = Message(
            N_(
                "%(amount)s %(unit)s is %(words)s: is that right, or should it be %(guess)s? "
                "Confirm the amount to save it."
            ),
            {
                "amount": plain(amount),
                "unit": unit,
                "words": InWords(amount * per),
                "guess": InWords(amount * per / SLIP),
            },
        )
        details.append({"field": field, "message": message})
    if details:
        raise ConfirmRequired(
            details[0]["message"] if len(details) == 1 else N_("confirm the large amounts"),
            details=details,
        )
