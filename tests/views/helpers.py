"""Signing in through the real login form, as a browser would."""

from __future__ import annotations

import re

import httpx

from tests import factories as f


async def csrf(http: httpx.AsyncClient) -> str:
    if not http.cookies.get("xt_csrf"):
        await http.get("/login")
    return http.cookies.get("xt_csrf") or ""


async def log_in(http: httpx.AsyncClient, email: str, password: str = f.PASSWORD) -> httpx.Response:
    token = await csrf(http)
    return await http.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )


async def post(http: httpx.AsyncClient, url: str, data: dict, *, htmx: bool = False):
    headers = {"HX-Request": "true", "X-CSRF-Token": await csrf(http)} if htmx else {}
    payload = dict(data)
    if not htmx:
        payload["csrf_token"] = await csrf(http)
    return await http.post(url, data=payload, headers=headers)


def heading(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    return match.group(1).strip() if match else ""
