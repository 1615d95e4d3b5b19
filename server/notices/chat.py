"""Chat robots' incoming-webhook formats (DingTalk, Feishu/Lark, WeCom, generic JSON). Pure.

Each function returns the URL to post to and the JSON body; signing needs the current time,
which the caller passes so tests can check a signature exactly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus

from server.notices.models import RobotKind


def dingtalk_signature(secret: str, timestamp_ms: int) -> str:
    """DingTalk: base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")), ms timestamp."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_signature(secret: str, timestamp_s: int) -> str:
    """Feishu/Lark: base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg="")), s timestamp."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def build_request(
    kind: RobotKind,
    *,
    url: str,
    secret: str,
    subject: str,
    text: str,
    mentions: list[str],
    now_ms: int,
) -> tuple[str, dict[str, Any]]:
    content = f"{subject}\n{text}".strip()
    if kind == RobotKind.DINGTALK:
        if mentions:
            content += "\n" + " ".join(f"@{m}" for m in mentions)
        body: dict[str, Any] = {
            "msgtype": "text",
            "text": {"content": content},
            "at": {"atMobiles": mentions, "isAtAll": False},
        }
        if secret:
            sign = quote_plus(dingtalk_signature(secret, now_ms))
            separator = "&" if "?" in url else "?"
            url = f"{url}{separator}timestamp={now_ms}&sign={sign}"
        return url, body
    if kind == RobotKind.FEISHU:
        body = {"msg_type": "text", "content": {"text": content}}
        if secret:
            seconds = now_ms // 1000
            body["timestamp"] = str(seconds)
            body["sign"] = feishu_signature(secret, seconds)
        return url, body
    if kind == RobotKind.WECOM:
        return url, {
            "msgtype": "text",
            "text": {"content": content, "mentioned_mobile_list": mentions},
        }
    return url, {"subject": subject, "text": text, "mentions": mentions}


def accepted(kind: RobotKind, status: int, answer: Any) -> bool:
    """Whether the robot took the message: HTTP 2xx and, for the chat apps, code 0."""
    if not 200 <= status < 300:
        return False
    if kind == RobotKind.GENERIC:
        return True
    if not isinstance(answer, dict):
        return False
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    return code in (0, "0", None)
