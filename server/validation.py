"""Input checks shared by every service; each failure names its field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from server.errors import DomainError, Invalid, InvalidFields

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MOBILE_PATTERN = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")
MAX_TEXT = 20_000
MIN_PASSWORD = 8
MAX_PASSWORD = 256
# NUL and the other C0 controls but tab and line feed (and DEL): PostgreSQL refuses NUL, XML
# and spreadsheets refuse the rest, and none belongs in a name or a mail header.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Line ends as browsers send them (CRLF), old Macs (CR) and Word (vertical tab, form feed).
LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c]")


@dataclass
class Checks:
    """Collects every field error of one input, so a form shows them all at once."""

    errors: list[DomainError] = field(default_factory=list)

    def fail(self, field_name: str, message: str, **params: Any) -> None:
        self.errors.append(Invalid(message, field=field_name, **params))

    def text(
        self,
        field_name: str,
        value: str | None,
        *,
        required: bool = True,
        max_length: int = 200,
        multiline: bool = False,
    ) -> str:
        """Every text of every input passes here: one line unless `multiline`, line ends
        made LF, control characters refused on the field."""
        cleaned = LINE_BREAKS.sub("\n", value or "").strip()
        if CONTROL_CHARACTERS.search(cleaned):
            self.fail(field_name, "Remove the control characters (such as NUL) from this text.")
        elif not multiline and ("\n" in cleaned or "\t" in cleaned):
            self.fail(field_name, "Keep this to one line.")
        elif required and not cleaned:
            self.fail(field_name, "This field is required.")
        elif len(cleaned) > max_length:
            self.fail(field_name, "At most %(max)s characters.", max=max_length)
        return cleaned

    def long_text(self, field_name: str, value: str | None) -> str:
        return self.text(field_name, value, required=False, max_length=MAX_TEXT, multiline=True)

    def link(self, field_name: str, value: str | None) -> str:
        """Evidence people follow: a web address, or a page of Xietong itself."""
        cleaned = self.text(field_name, value, required=False, max_length=500)
        if cleaned and not cleaned.startswith(("http://", "https://", "/")):
            self.fail(field_name, "Give a web address (http:// or https://) or a page of Xietong.")
        return cleaned

    def password(self, field_name: str, value: str | None, *, required: bool = True) -> None:
        """8 to 256 characters; an empty one only where none is required (a user created
        without a password logs in once an administrator sets one)."""
        if not value and not required:
            return
        if len(value or "") < MIN_PASSWORD:
            self.fail(field_name, "A password needs at least 8 characters.")
        elif len(value or "") > MAX_PASSWORD:
            self.fail(field_name, "At most %(max)s characters.", max=MAX_PASSWORD)

    def email(self, field_name: str, value: str | None, *, required: bool = False) -> str | None:
        cleaned = (value or "").strip().lower()
        if not cleaned:
            if required:
                self.fail(field_name, "This field is required.")
            return None
        if len(cleaned) > 254 or not EMAIL_PATTERN.match(cleaned):
            self.fail(field_name, "This is not an email address.")
        return cleaned

    def mobile(self, field_name: str, value: str | None) -> str | None:
        cleaned = (value or "").strip()
        if not cleaned:
            return None
        if not MOBILE_PATTERN.match(cleaned):
            self.fail(field_name, "This is not a phone number.")
        return cleaned

    def code(self, field_name: str, value: str | None) -> str:
        cleaned = (value or "").strip().upper()
        if not cleaned:
            self.fail(field_name, "This field is required.")
        elif not CODE_PATTERN.match(cleaned):
            self.fail(
                field_name, "Use 2 to 32 letters, digits, dashes or underscores, without spaces."
            )
        return cleaned

    def day(
        self, field_name: str, value: date | str | None, *, required: bool = True
    ) -> date | None:
        if value is None or value == "":
            if required:
                self.fail(field_name, "This field is required.")
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            self.fail(field_name, "Enter a date as YYYY-MM-DD.")
            return None

    def whole_number(
        self, field_name: str, value: int | str | None, *, low: int, high: int
    ) -> int | None:
        try:
            number = int(value) if value is not None and value != "" else None
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            self.fail(
                field_name, "Enter a whole number from %(low)s to %(high)s.", low=low, high=high
            )
            return None
        return number

    def done(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise InvalidFields(self.errors)
