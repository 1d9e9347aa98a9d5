"""``.env.example`` documents every setting, and nothing that is not one."""

from __future__ import annotations

import re
from pathlib import Path

from coordinator.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
_VARIABLE = re.compile(r"^#?\s*(COORDINATOR_[A-Z0-9_]+)=", re.MULTILINE)


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(_VARIABLE.findall(EXAMPLE.read_text(encoding="utf-8")))
    settings = {f"COORDINATOR_{name.upper()}" for name in Settings.model_fields}
    assert settings - documented == set(), "add these to .env.example"
    assert documented - settings == set(), "these are not settings any more"
