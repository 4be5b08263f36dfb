"""The till's configuration file (TOML) and where its data lives.

``config.toml`` sits in the platform's config folder (``platformdirs``); every key is optional:

    data_dir = "D:/pos-member"      # default: the platform's app-data folder
    rules_file = "D:/rules.toml"    # default: the shipped resources/rules/default.toml
    language = "zh_CN"              # zh_CN or en; default: the system's language

A bad file is refused with a message naming the key; nothing starts on a half-read config.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pos_member.errors import ConfigInvalid

APP_NAME = "pos-member"
LANGUAGES = ("zh_CN", "en")


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path
    rules_file: Path
    language: str | None  # None: follow the system locale

    @property
    def db_path(self) -> Path:
        return self.data_dir / "till.sqlite"


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def load_config(path: Path | None = None) -> Config:
    """Reads ``path`` (default: the platform's config file; a missing file means defaults)."""
    from pos_member.rules import default_rules_path

    path = path or default_config_path()
    data: dict[str, object] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigInvalid(field=str(path), problem=f"not valid TOML: {e}") from None
    unknown = sorted(set(data) - {"data_dir", "rules_file", "language"})
    if unknown:
        raise ConfigInvalid(field=unknown[0], problem="unknown key")
    language = data.get("language")
    if language is not None and language not in LANGUAGES:
        raise ConfigInvalid(field="language", problem=f"must be one of {', '.join(LANGUAGES)}")
    return Config(
        data_dir=_path(data, "data_dir") or default_data_dir(),
        rules_file=_path(data, "rules_file") or default_rules_path(),
        language=language,  # type: ignore[arg-type]
    )


def _path(data: dict[str, object], key: str) -> Path | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigInvalid(field=key, problem="must be a path in quotes")
    return Path(value).expanduser()
