"""Notice settings on the account page and over GraphQL; the administrator is warned about
people no notice can reach."""

from __future__ import annotations

from urllib.parse import urlencode

from server.org.models import User
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.views.helpers import csrf, log_in, post


async def test_a_person_turns_meeting_mail_off_and_picks_quiet_hours_on_the_account_page(http):
    person = await f.user(name="李娜")
    await log_in(http, person.email)
    page = await http.get("/account")
    assert 'id="notices"' in page.text and "升级与审批" in page.text
    assert page.text.count('id="notices"') == 1  # the section once, not also in the <title>
    token = await csrf(http)
    # Everything ticked but meetings; escalations cannot be unticked (disabled, always sent).
    wanted = [("email", k) for k in ("MENTIONS", "SIGN_OFFS", "TEAM", "DIGEST")]
    fields = [
        ("csrf_token", token),
        ("version", "1"),
        *wanted,
        ("chat", "MENTIONS"),
        ("digest_mode", "on"),
        ("quiet_from", "22"),
        ("quiet_until", "7"),
    ]
    saved = await http.post(
        "/account/notices",
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/account?saved=notices#notices"
    person = await User.get(id=person.id)
    assert person.email_off == ["MEETINGS"] and person.chat_off == []
    assert (person.digest_mode, person.quiet_from, person.quiet_until) == (True, 22, 7)
    shown = await http.get("/account?saved=notices")
    assert "通知设置已保存" in shown.text and '<option value="22" selected>' in shown.text

    half = await post(http, "/account/notices", {"version": "2", "quiet_from": "9"})
    assert half.status_code == 400 and 'id="quietUntil-error"' in half.text
    assert (await User.get(id=person.id)).version == 2


async def test_notice_settings_over_graphql_are_the_viewers_own(http):
    person = await f.user(name="李娜")
    other = await f.user(name="王芳")
    token = await token_for(person)
    changed = await gql(
        http,
        token,
        """mutation($input: SetNoticePreferencesInput!) { setNoticePreferences(input: $input) {
            user { noticePreferences { emailOff chatOff digestMode quietFrom quietUntil } }
            errors { code field message } } }""",
        {"input": {"version": 1, "emailOff": ["TEAM"], "quietFrom": 12, "quietUntil": 13}},
    )
    assert changed.json()["data"]["setNoticePreferences"]["user"]["noticePreferences"] == {
        "emailOff": ["TEAM"],
        "chatOff": [],
        "digestMode": False,
        "quietFrom": 12,
        "quietUntil": 13,
    }
    refused = await gql(
        http,
        token,
        """mutation($input: SetNoticePreferencesInput!) { setNoticePreferences(input: $input) {
            errors { code field } } }""",
        {"input": {"version": 2, "emailOff": ["ESCALATIONS"]}},
    )
    assert refused.json()["data"]["setNoticePreferences"]["errors"] == [
        {"code": "INVALID", "field": ["emailOff"]}
    ]
    from schema.common import to_global_id

    seen = await gql(
        http,
        token,
        """query($id: ID!) { node(id: $id) {
            ... on User { name noticePreferences { digestMode } } } }""",
        {"id": to_global_id("User", other.id)},
    )
    node = seen.json()["data"]["node"]
    assert node is None or node["noticePreferences"] is None


async def test_the_users_page_names_people_no_notice_can_reach(http):
    admin = await f.user(name="管理员", is_admin=True)
    await f.user(name="老陈", email="", mobile="13800000078")
    await log_in(http, admin.email)
    page = await http.get("/admin/users")
    assert 'id="unreachable"' in page.text and "<strong>老陈</strong>" in page.text
