"""Signing in and out, and the language switch, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, USERS, choose_language, sign_in

pytestmark = pytest.mark.browser

SENT_TO_SIGN_IN = re.compile(r"/login\?next=(/|%2F)districts$")
# The brand in the header, in each language.
BRAND = {"zh": "链库 chaindb", "en": "chaindb"}


def test_a_wrong_password_shows_the_message_and_the_right_one_leads_home(page, live_server):
    page.goto("/districts")
    expect(page).to_have_url(SENT_TO_SIGN_IN)
    sign_in(page, USERS["editor"], "not the password")

    error = page.locator("#password-error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(page.locator("input[name=username]")).to_have_value(USERS["editor"])
    expect(page.locator("input[name=password]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("header .account")).to_have_count(0)

    sign_in(page, USERS["editor"], PASSWORD)
    expect(page).to_have_url(live_server.url("/"))
    expect(page.locator("header a.brand")).to_have_text(BRAND["zh"])
    expect(page.locator("header .account")).to_contain_text(USERS["editor"])


def test_the_wrong_password_message_is_in_english_on_an_english_page(page, live_server):
    page.goto("/login")
    choose_language(page, "en")
    sign_in(page, USERS["admin"], "not the password either")
    expect(page.locator("#password-error")).to_have_text("Wrong user name or password.")


def test_signing_in_after_being_sent_to_sign_in_returns_to_the_page_asked_for(page, live_server):
    page.goto("/districts")
    page.locator("input[name=username]").fill(USERS["admin"])
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form.record-form button[type=submit]").click()
    expect(page).to_have_url(live_server.url("/districts"))
    expect(page.locator("table.grid")).to_be_visible()


def test_signing_out_ends_the_session(signed_in_page, live_server):
    page = signed_in_page("editor")
    with page.expect_navigation():
        page.locator("header .account form button[type=submit]").click()
    expect(page).to_have_url(live_server.url("/login"))
    expect(page.locator("header .account")).to_have_count(0)
    page.goto("/districts")
    expect(page).to_have_url(SENT_TO_SIGN_IN)


def test_chinese_is_the_default_and_english_is_kept_per_user(new_page, live_server):
    username = live_server.make_user("editor")
    page = new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    sign_in(page, username)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("header a.brand")).to_have_text(BRAND["zh"])
    expect(page.locator("form.langs button[value=zh]")).to_be_disabled()

    with page.expect_navigation():
        page.locator("form.langs button[name=lang]", has_text="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header a.brand")).to_have_text(BRAND["en"])
    expect(page.locator("form.langs button[value=en]")).to_be_disabled()
    assert live_server.scalar("SELECT locale FROM app_user WHERE username = :u", u=username) == (
        "en"
    )

    # Navigating keeps it; the switch sends the reader back to the page they were on.
    page.goto("/districts")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with page.expect_navigation():
        page.locator("form.langs button[name=lang][value=zh]").click()
    expect(page).to_have_url(live_server.url("/districts"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    choose_language(page, "en")
    expect(page).to_have_url(live_server.url("/districts"))

    # Signing out and in again keeps it.
    with page.expect_navigation():
        page.locator("header .account form button[type=submit]").click()
    sign_in(page, username)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Kept on the account, not only in this browser: a browser that never chose signs in
    # and gets English too.
    elsewhere = new_page()
    elsewhere.goto("/login")
    expect(elsewhere.locator("html")).to_have_attribute("lang", "zh-Hans")
    sign_in(elsewhere, username)
    expect(elsewhere.locator("html")).to_have_attribute("lang", "en")
    expect(elsewhere.locator("header a.brand")).to_have_text(BRAND["en"])
