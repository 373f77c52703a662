"""The dashboard's sign-in in a real browser: a token becomes an HttpOnly, SameSite session
cookie; a wrong token is refused; pages without a session go to the sign-in page and come
back; a forged or CSRF-less form is refused; signing out ends the session."""

from __future__ import annotations

from typing import Any

import httpx

from ui_browser import screenshot


def test_signin_sets_a_strict_httponly_cookie(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    cookies = w.page.context.cookies()
    (session,) = [c for c in cookies if c["name"] == "vigil_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert dashboard.tokens["reader"] not in session["value"]  # the token itself never
    assert w.page.url.rstrip("/") == dashboard.url
    assert w.page.locator("header .who").inner_text() == "reader"
    assert w.page.evaluate("document.cookie") == ""  # no script can read it


def test_a_page_without_a_session_signs_in_and_comes_back(open_page: Any, dashboard: Any) -> None:
    w = open_page(signed_in=False)
    w.page.goto(dashboard.url + "/?range=6h")
    assert "/signin?next=/%3Frange%3D6h" in w.page.url or "/signin?next=/?range=6h" in w.page.url
    screenshot(w.page, "signin")
    w.page.fill("#token", "vgl_" + "x" * 43)
    w.page.click("#signin-form button[type=submit]")
    assert w.page.locator("p.error").inner_text() == "That token is unknown or revoked."
    w.errors.clear()  # the 401 answer is logged by the browser as a failed resource
    w.page.fill("#token", dashboard.tokens["reader"])
    w.page.click("#signin-form button[type=submit]")
    w.page.wait_for_load_state("load")
    assert w.page.url == dashboard.url + "/?range=6h"


def test_a_signin_link_fills_the_form_from_its_fragment(open_page: Any, dashboard: Any) -> None:
    w = open_page(signed_in=False)
    w.page.goto(dashboard.url + "/signin#token=" + dashboard.tokens["reader"])
    w.page.wait_for_url(dashboard.url + "/")
    assert w.page.locator("header .who").inner_text() == "reader"


def test_forms_need_the_sessions_csrf_field(open_page: Any, dashboard: Any) -> None:
    w = open_page("admin")
    cookie = next(c for c in w.page.context.cookies() if c["name"] == "vigil_session")["value"]
    # a form posted without the CSRF field (as another site's page would) is refused
    answer = httpx.post(dashboard.url + "/signout", cookies={"vigil_session": cookie},
                        follow_redirects=False)
    assert answer.status_code == 403
    # a forged cookie is no session
    answer = httpx.get(dashboard.url + "/", cookies={"vigil_session": cookie[:-4] + "AAAA"},
                       follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    # the next parameter never leads to another site
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        answer = httpx.post(dashboard.url + "/signin", follow_redirects=False,
                            data={"token": dashboard.tokens["reader"], "next": target})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
    # a sign-in posted from another origin is refused (login CSRF)
    answer = httpx.post(dashboard.url + "/signin", headers={"origin": "https://evil.example"},
                        data={"token": dashboard.tokens["reader"]}, follow_redirects=False)
    assert answer.status_code == 403


def test_a_token_without_read_is_refused_not_signed_in(dashboard: Any) -> None:
    """An ingest-only token (a serving process's) gets a 403 page saying why, not a session
    that would only lead back to the sign-in page."""
    from vigil.app.bootstrap import open_database
    from vigil.server.auth import create_token
    from vigil.store.settings import Settings

    db = open_database(Settings(data_dir=dashboard.data_dir))
    ingest = create_token(db, "signin-ingest-only", "ingest")
    db.dispose()
    answer = httpx.post(dashboard.url + "/signin", data={"token": ingest},
                        follow_redirects=False)  # fmt: skip
    assert answer.status_code == 403 and "vigil_session" not in answer.headers.get(
        "set-cookie", "")
    assert "lacks the &#39;read&#39; scope the dashboard needs" in answer.text


def test_signing_out_ends_the_session(open_page: Any, dashboard: Any) -> None:
    w = open_page("reader")
    w.page.click("form.signout button")
    w.page.wait_for_url("**/signin")
    assert not [c for c in w.page.context.cookies() if c["name"] == "vigil_session"]
    w.page.goto(dashboard.url + "/")
    assert "/signin" in w.page.url


def test_the_keyboard_alone_signs_in_and_skips_to_the_content(
    open_page: Any, dashboard: Any
) -> None:
    w = open_page(signed_in=False)
    w.page.goto(dashboard.url + "/signin")
    w.page.keyboard.type(dashboard.tokens["reader"])  # the token field has the focus
    w.page.keyboard.press("Enter")
    w.page.wait_for_url(dashboard.url + "/")
    w.page.keyboard.press("Tab")  # the first stop: the skip link, shown when focused
    focused = w.page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    w.page.keyboard.press("Enter")
    assert w.page.evaluate("document.activeElement.id") == "main"
    w.page.keyboard.press("Tab")  # on into the page's own content
    inside = w.page.evaluate("document.getElementById('main').contains(document.activeElement)")
    assert inside
