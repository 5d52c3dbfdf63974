"""Forms filled as a browser fills them: what the page offers, changed only where a person types.

A browser sends every field of a form: an empty text box as "", the selected option of a select
(its first one when none is marked), a ticked checkbox with its value and an unticked one not
at all. Tests that post a hand-made dict skip that; these helpers read the page's own form.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._option: dict[str, Any] | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {
                "method": a.get("method", "get").lower(),
                "action": a.get("action"),
                "fields": [],
                "names": set(),
                "required": set(),
            }
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            self._form["names"].add(name)
            if "required" in a:
                self._form["required"].add(name)
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self._form["fields"].append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._form["names"].add(name)
            if "required" in a:
                self._form["required"].add(name)
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
        elif tag == "textarea" and name:
            self._form["names"].add(name)
            if "required" in a:
                self._form["required"].add(name)
            self._textarea = name
            self._form["fields"].append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data
        elif self._textarea is not None and self._form is not None:
            name, value = self._form["fields"][-1]
            self._form["fields"][-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            option = self._option
            value = option["value"] if option["value"] is not None else option["text"].strip()
            if self._select_first is None:
                self._select_first = value
            if option["selected"] and not self._select_chosen:
                self._select_chosen = True
                self._form["fields"].append((self._select, value))  # type: ignore[index]
            self._option = None
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self._form["fields"].append((self._select, self._select_first))  # type: ignore[index]
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None and self._form is not None:
                name, value = self._form["fields"][-1]
                # A newline right after <textarea> is not part of its value.
                self._form["fields"][-1] = (name, value.removeprefix("\n"))
            self._textarea = None
        elif tag == "form":
            self._form = None


def page_forms(html: str) -> list[dict[str, Any]]:
    """Every form of a page: method, action, fields as a browser would send them, names, and
    the names marked required."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def record_form(html: str) -> dict[str, Any]:
    """The page's main form: the first POST form that is not the header's language switch or
    sign-out."""
    for form in page_forms(html):
        action = form["action"] or ""
        if form["method"] == "post" and not action.endswith(("/language", "/logout")):
            return form
    raise AssertionError("no record form on the page")


def filled(html: str, typed: dict[str, str | None]) -> dict[str, str]:
    """The record form's values as a browser sends them, with what a person typed; None unticks
    a checkbox. Typing into a field the form does not have is a test's mistake."""
    form = record_form(html)
    unknown = set(typed) - form["names"]
    assert not unknown, f"the form has no field {sorted(unknown)}"
    values = dict(form["fields"])
    for name, value in typed.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values
