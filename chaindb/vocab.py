"""A closed vocabulary's labels: how the pages, the exports and the error messages name each value
of a domain's enum. Shared machinery: each domain declares its own in its vocab.py."""

from __future__ import annotations

from enum import Enum
from typing import Any

from chaindb.errors import VALUE_LABELS


def vocabulary(enum: type[Enum], labels: dict[str, Any]) -> dict[str, Any]:
    """Labels for every value of `enum`, the value itself where no label is given.

    The labels also name these values inside error messages shown on the pages."""
    found = {member.value: labels.get(member.value, member.value) for member in enum}
    for value, label in found.items():
        VALUE_LABELS.setdefault(value, label)
    return found
