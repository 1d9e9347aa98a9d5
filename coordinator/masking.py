"""Masking of personal data (phones, ID numbers) for logs and for roles that may not see it."""

from __future__ import annotations

import re

# Mainland mobiles with or without +86, and 18-character resident ID numbers.
_PHONE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")


def mask_phone(phone: str | None) -> str | None:
    """``+8613812341234`` → ``138****1234``; other formats keep only the last four digits."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_id_number(id_number: str | None) -> str | None:
    """``522601199001011234`` → ``**************1234``: only the sequence number and check digit.

    The hidden ones are the region (guessed from the station's county) and the birth date, which
    is why masked views give an age, never a birthday."""
    if id_number is None:
        return None
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return "*" * (len(id_number) - 4) + id_number[-4:]


def mask_name(name: str) -> str:
    """``杨秀英`` → ``杨*英``, ``张三`` → ``张*``: enough to recognise, not to identify."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_text(text: str) -> str:
    """Mask every phone number and ID number found inside free text (log lines, errors)."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)) or "", text)
    return _PHONE.sub(lambda m: f"{m.group(2)}****{m.group(4)}", text)
