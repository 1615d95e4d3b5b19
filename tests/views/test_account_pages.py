"""A person changes their password and renews their calendar link from the pages; an
administrator resets a forgotten password; partners do the same through GraphQL."""

from __future__ import annotations

from schema.common import to_global_id
from server.org.models import User
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.views.helpers import log_in, post


async def test_change_password_and_renew_the_feed_link_from_the_account_page(http):
    u = await f.user(email="liaison@example.com")
    assert (await http.get("/account")).status_code == 303  # to the login page
    await log_in(http, u.email)
    page = await http.get("/account")
    assert page.status_code == 200 and "修改密码" in page.text
    old_link = page.text.split("calendar.ics?token=")[1].split("<")[0]

    wrong = await post(
        http, "/account/password", {"current_password": "guess", "new_password": "new-pass-123"}
    )
    assert wrong.status_code == 400 and 'id="currentPassword-error"' in wrong.text
    short = await post(
        http, "/account/password", {"current_password": f.PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 400 and 'id="newPassword-error"' in short.text
    changed = await post(
        http, "/account/password", {"current_password": f.PASSWORD, "new_password": "new-pass-123"}
    )
    assert changed.status_code == 200 and "密码已修改" in changed.text
    assert (await http.get("/account")).status_code == 200  # this session goes on

    renewed = await post(http, "/account/feed", {})
    assert renewed.status_code == 303
    new_link = (await http.get("/account")).text.split("calendar.ics?token=")[1].split("<")[0]
    assert new_link != old_link


async def test_an_administrator_resets_a_password_on_the_users_page(http):
    admin = await f.user(email="admin@example.com", is_admin=True)
    forgetful = await f.user(email="forgot@example.com")
    await log_in(http, admin.email)
    users = await http.get("/admin/users")
    assert f"/admin/users/{forgetful.id}/password" in users.text
    short = await post(
        http,
        f"/admin/users/{forgetful.id}/password",
        {"new_password": "short", "version": str(forgetful.version)},
    )
    assert short.status_code == 400 and "至少需要 8 个字符" in short.text
    done = await post(
        http,
        f"/admin/users/{forgetful.id}/password",
        {"new_password": "fresh-start-9", "version": str(forgetful.version)},
    )
    assert done.status_code == 303
    http.cookies.clear()
    assert (await log_in(http, forgetful.email, "fresh-start-9")).status_code == 303


async def test_password_mutations_through_graphql(http):
    admin = await f.user(is_admin=True)
    u = await f.user()
    token = await token_for(u)
    change = """mutation($input: ChangePasswordInput!) {
        changePassword(input: $input) { user { name } errors { code field message } } }"""
    refused = await gql(
        http, token, change, {"input": {"currentPassword": "x", "newPassword": "long-enough-1"}}
    )
    assert refused.json()["data"]["changePassword"]["errors"][0]["field"] == ["currentPassword"]
    ok = await gql(
        http,
        token,
        change,
        {"input": {"currentPassword": f.PASSWORD, "newPassword": "long-enough-1"}},
    )
    assert ok.json()["data"]["changePassword"]["errors"] == []

    reset = """mutation($input: ResetPasswordInput!) {
        resetPassword(input: $input) { user { version } errors { code field message } } }"""
    version = (await User.get(id=u.id)).version
    variables = {
        "input": {
            "userId": to_global_id("User", u.id),
            "version": version,
            "newPassword": "admin-set-22",
        }
    }
    forbidden = await gql(http, token, reset, variables)
    assert forbidden.json()["data"]["resetPassword"]["errors"][0]["code"] == "FORBIDDEN"
    done = await gql(http, await token_for(admin), reset, variables)
    assert done.json()["data"]["resetPassword"]["user"]["version"] == version + 1

    rotate = "mutation { rotateFeedToken { feedToken errors { code } } }"
    first = (await gql(http, token, rotate)).json()["data"]["rotateFeedToken"]["feedToken"]
    second = (await gql(http, token, rotate)).json()["data"]["rotateFeedToken"]["feedToken"]
    assert first and second and first != second
