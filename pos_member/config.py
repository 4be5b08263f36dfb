"""The till's configuration file (TOML) and where its data lives.

``config.toml`` sits in the platform's config folder (``platformdirs``); every key is optional:

    data_dir = "D:/pos-member"      # default: the platform's app-data folder
    rules_file = "D:/rules.toml"    # default: the shipped resources/rules/default.toml
    language = "zh_CN"              # zh_CN or en; default: the system's language
    opening_hours = "10:00-22:00"   # the store's hours (recruitment pace); default 10:00-22:00
    sms_gateway_url = "https://sms.example.com/send"  # member SMS; default: logged, not sent
    time_zone = "Asia/Shanghai"     # the store's IANA time zone (its day); default Asia/Shanghai
    hq_ca = "system"                # trust for HQ's HTTPS: "system" or a PEM file; default:
                                    # the public CAs bundled with httpx (pos_member.hq_trust)
    backup_dir = "E:/pos-backups"   # daily database copies; default <data_dir>/backups
    backup_keep_days = 14           # how long a daily copy is kept; default 14
    scanner_port = "COM3"           # a serial-port scanner ("/dev/ttyUSB0" on Linux); default:
                                    # none (keyboard-wedge scanners need no setting)
    scanner_baud = 9600             # its speed; default 9600
    integration_port = 8765         # the local API for the main POS, on 127.0.0.1 only;
                                    # 0 turns it off; default 8765 (docs/integration.md)
    integration_folder = "D:/pos-drop"  # a watched folder of sale and refund files from the
                                    # POS; default: none

A bad file is refused with a message naming the key; nothing starts on a half-read config.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

from pos_member import hq_trust
from pos_member.clock import DEFAULT_ZONE, store_zone
from pos_member.errors import ConfigInvalid

APP_NAME = "pos-member"
LOG_DIR_ENV = "POS_MEMBER_LOG_DIR"
LANGUAGES = ("zh_CN", "en")
INTEGRATION_PORT = 8765  # the POS's local API (integration_api.server.DEFAULT_PORT)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """The store's daily opening hours, local time: recruitment pace is measured over them."""

    opens: time
    closes: time

    def elapsed_minutes(self, now: time) -> int:
        """Minutes of opening time gone by at ``now`` (0 before opening, all after closing)."""
        minutes = _minutes(min(max(now, self.opens), self.closes)) - _minutes(self.opens)
        return max(minutes, 0)

    @property
    def total_minutes(self) -> int:
        return _minutes(self.closes) - _minutes(self.opens)

    def text(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


DEFAULT_HOURS = OpeningHours(time(10, 0), time(22, 0))


def parse_opening_hours(text: str) -> OpeningHours:
    """``"HH:MM-HH:MM"``, the same day. Closing at or before opening is refused."""
    try:
        a, b = (part.strip() for part in text.split("-"))
        opens, closes = time.fromisoformat(a), time.fromisoformat(b)
    except ValueError:
        raise ConfigInvalid(field="opening_hours",
                            problem=f"must look like \"10:00-22:00\", got {text!r}") from None
    if opens.tzinfo is not None or closes.tzinfo is not None:  # local time (``time_zone``)
        raise ConfigInvalid(field="opening_hours",
                            problem=f"must be the store's local times without an offset, like "
                                    f"\"10:00-22:00\", got {text!r}")
    if closes <= opens:
        raise ConfigInvalid(field="opening_hours",
                            problem=f"closing time {b} must be after opening time {a}")
    return OpeningHours(opens, closes)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


SCANNER_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


@dataclass(frozen=True, slots=True)
class ScannerPort:
    """A serial-port scanner (pos_member.serial_scanner): the port's name and its speed."""

    port: str
    baud: int = 9600


@dataclass(frozen=True, slots=True)
class Integration:
    """The local integration API's port (0: off) and the watched folder (None: none)."""

    port: int = 8765  # INTEGRATION_PORT
    folder: Path | None = None


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path
    rules_file: Path
    language: str | None  # None: follow the system locale
    opening_hours: OpeningHours = field(default=DEFAULT_HOURS)
    # Member notifications go through this SMS gateway (API key in the OS keyring); None: the
    # log channel (development).
    sms_gateway_url: str | None = None
    # The store's IANA time zone: where its day starts and ends (pos_member.clock).
    time_zone: str = DEFAULT_ZONE
    # What to trust for HQ's HTTPS address: None (public CAs), "system" or a PEM file
    # (pos_member.hq_trust).
    hq_ca: str | None = None
    # Daily copies of the database (pos_member.db.backups): where (None: <data_dir>/backups; a
    # second disk or a share is better) and for how many days.
    backup_dir: Path | None = None
    backup_keep_days: int = 14
    scanner: ScannerPort | None = None  # None: no serial-port scanner
    integration: Integration = field(default_factory=Integration)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "till.sqlite"

    @property
    def backups(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"


def log_folder(program: str = APP_NAME) -> Path:
    """Where ``program`` writes its log files (pos_member_app.logs): ``$POS_MEMBER_LOG_DIR``,
    else the platform's log folder (``~/.local/state/pos-member/log`` on Linux,
    ``%LOCALAPPDATA%\\pos-member\\Logs`` on Windows)."""
    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override)
    from platformdirs import user_log_path

    return user_log_path(program, appauthor=False)


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def load_config(path: Path | None = None) -> Config:
    """Reads ``path`` (default: the platform's config file; a missing file means defaults)."""
    from pos_member.rules_config import default_rules_path

    path = path or default_config_path()
    base = path.absolute().parent
    data: dict[str, object] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigInvalid(field=str(path), problem=f"not valid TOML: {e}") from None
        except OSError as e:  # a folder, no permission
            raise ConfigInvalid(field=str(path),
                                problem=f"cannot be read ({e.strerror or e})") from None
    unknown = sorted(set(data) - {"data_dir", "rules_file", "language", "opening_hours",
                                  "sms_gateway_url", "time_zone", hq_trust.KEY, "backup_dir",
                                  "backup_keep_days", "scanner_port", "scanner_baud",
                                  "integration_port", "integration_folder"})
    if unknown:
        raise ConfigInvalid(field=unknown[0], problem="unknown key")
    language = data.get("language")
    if language is not None and language not in LANGUAGES:
        raise ConfigInvalid(field="language", problem=f"must be one of {', '.join(LANGUAGES)}")
    return Config(
        data_dir=_path(data, "data_dir", base) or default_data_dir(),
        rules_file=_path(data, "rules_file", base) or default_rules_path(),
        language=language,  # type: ignore[arg-type]
        opening_hours=_hours(data),
        sms_gateway_url=_url(data, "sms_gateway_url"),
        time_zone=_time_zone(data),
        hq_ca=_hq_ca(data, base),
        backup_dir=_path(data, "backup_dir", base),
        backup_keep_days=_keep_days(data),
        scanner=_scanner(data),
        integration=_integration(data, base),
    )


def _integration(data: dict[str, object], base: Path) -> Integration:
    port = data.get("integration_port", INTEGRATION_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not (
            port == 0 or 1024 <= port <= 65535):
        raise ConfigInvalid(field="integration_port",
                            problem="must be 0 (off) or a port from 1024 to 65535")
    return Integration(port, _path(data, "integration_folder", base))


def _scanner(data: dict[str, object]) -> ScannerPort | None:
    port, baud = data.get("scanner_port"), data.get("scanner_baud")
    if port is None:
        if baud is not None:
            raise ConfigInvalid(field="scanner_baud", problem="needs scanner_port as well")
        return None
    if not isinstance(port, str) or not port.strip() \
            or any(c.isspace() or not c.isprintable() for c in port):
        raise ConfigInvalid(field="scanner_port",
                            problem='must be a port name in quotes, like "COM3" or '
                                    '"/dev/ttyUSB0"')
    if baud is None:
        return ScannerPort(port)
    if isinstance(baud, bool) or baud not in SCANNER_BAUDS:
        raise ConfigInvalid(field="scanner_baud",
                            problem=f"must be one of {', '.join(map(str, SCANNER_BAUDS))}")
    return ScannerPort(port, int(baud))  # type: ignore[arg-type]


def _time_zone(data: dict[str, object]) -> str:
    value = data.get("time_zone", DEFAULT_ZONE)
    if not isinstance(value, str):
        raise ConfigInvalid(field="time_zone",
                            problem="must be an IANA time zone name in quotes, like "
                                    "\"Asia/Shanghai\"")
    try:
        store_zone(value)
    except ValueError as e:
        raise ConfigInvalid(field="time_zone", problem=str(e)) from None
    return value.strip()


def _keep_days(data: dict[str, object]) -> int:
    value = data.get("backup_keep_days", 14)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise ConfigInvalid(field="backup_keep_days", problem="must be a whole number of days, "
                                                              "1 to 3650")
    return value


def _hq_ca(data: dict[str, object], base: Path) -> str | None:
    value = data.get(hq_trust.KEY)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigInvalid(field=hq_trust.KEY,
                            problem=f'must be "{hq_trust.SYSTEM}" or a PEM file\'s path in quotes')
    if value != hq_trust.SYSTEM:  # a relative file is the config file's folder's (``_path``)
        value = str(base / Path(value).expanduser())
    hq_trust.hq_verify(value)  # refused now, naming the key, rather than at the first sync
    return value


def _url(data: dict[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigInvalid(field=key, problem="must be an http(s):// address in quotes")
    problem = url_problem(value)
    if problem is not None:
        raise ConfigInvalid(field=key, problem=problem)
    return value


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a gateway's address (English, for the config error), or None. The
    address is never echoed: a wrongly pasted one may hold a key."""
    if any(c.isspace() or not c.isprintable() for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port that is not a number or out of range
    except ValueError:
        return "is not a valid address (check the port)"
    if parts.scheme not in ("https", "http"):
        return "must start with https:// or http://"
    if not parts.hostname:
        return "must name the gateway's host, like \"https://sms.example.com/send\""
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        # members' phone numbers and the API key would cross the network in clear
        return "must start with https:// (plain http:// only for a gateway on this machine)"
    if parts.username is not None or parts.password is not None:
        return "must not hold a user name or key: the API key belongs in the OS keyring"
    return None


def is_path_text(text: str) -> bool:
    """Whether ``text`` may name a file or folder (in ``config.toml`` or on the command line):
    not blank, no control or other unprintable character (a NUL reached ``os.mkdir`` as a
    ``ValueError``)."""
    return bool(text.strip()) and text.isprintable()


def _path(data: dict[str, object], key: str, base: Path) -> Path | None:
    """A path the config names; a relative one is the config file's folder's (``base``), not
    the folder the program was started in: a shortcut, a scheduled close-day (Windows starts
    it in System32) and a shell all find the same till."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not is_path_text(value):
        raise ConfigInvalid(field=key, problem="must be a path in quotes (no control "
                                               "characters)")
    return base / Path(value).expanduser()  # an absolute one stays as it is


def _hours(data: dict[str, object]) -> OpeningHours:
    value = data.get("opening_hours")
    if value is None:
        return DEFAULT_HOURS
    if not isinstance(value, str):
        raise ConfigInvalid(field="opening_hours", problem="must be text like \"10:00-22:00\"")
    return parse_opening_hours(value)
