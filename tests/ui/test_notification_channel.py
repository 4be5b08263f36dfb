"""Which channel the running till sends notifications through: the config file's
``sms_gateway_url`` picks the SMS gateway (key from the OS keyring), none the log channel, and a
bad address is refused at start with a message naming the key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from pos_member.config import load_config
from pos_member.errors import ConfigInvalid
from pos_member.services.notifications import LogChannel, deliver_due, enqueue
from sync.sms_gateway import KEYRING_NAME, KEYRING_SERVICE, SmsGatewayChannel
from tests.factories import Till, make_till
from tests.keyrings import DictKeyring
from tests.sync.fake_sms_gateway import fake_gateway
from ui.notification_pump import channel_for


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def memory_keyring() -> Iterator[DictKeyring]:
    previous = keyring.get_keyring()
    backend = DictKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_no_gateway_configured_means_the_log_channel(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, 'language = "en"'))
    assert config.sms_gateway_url is None
    assert isinstance(channel_for(config.sms_gateway_url), LogChannel)


def test_a_configured_gateway_gets_the_members_sms_with_the_keyring_key(
        tmp_path: Path, memory_keyring: DictKeyring) -> None:
    till: Till = make_till(tmp_path)
    memory_keyring.set_password(KEYRING_SERVICE, KEYRING_NAME, "key-from-keyring")
    with fake_gateway() as gateway:
        config = load_config(config_file(tmp_path, f'sms_gateway_url = "{gateway.url}"'))
        channel = channel_for(config.sms_gateway_url)
        assert isinstance(channel, SmsGatewayChannel) and channel.url == gateway.url
        member = till.register(phone="13912345678")
        assert deliver_due(till.uow, channel).sent == 1  # the welcome pack's coupons arrived
        with till.uow.begin() as tx:
            enqueue(tx, member_id=member.id, kind="sv.frozen", params={}, dedupe_key="k")
            tx.commit()
        assert deliver_due(till.uow, channel).sent == 1
        channel.close()
    welcome, frozen = gateway.delivered.values()
    assert welcome["to"] == frozen["to"] == "13912345678"
    assert "冻结" in frozen["text"] and "冻结" not in welcome["text"]
    assert gateway.auth == ["Bearer key-from-keyring"] * 2


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('"sms.example.com/send"', "https://"),
        ('"ftp://sms.example.com/send"', "https://"),
        ('"https://"', "host"),
        ('"https:/sms.example.com/send"', "host"),
        ('"https://sms.example.com:99999/send"', "port"),
        ('"https://sms example.com/send"', "spaces"),
        ('"http://sms.example.com/send"', "plain http:// only for a gateway on this machine"),
        ("443", "address"),
    ],
)
def test_a_bad_gateway_address_is_refused_naming_the_key(tmp_path: Path, value: str,
                                                         problem: str) -> None:
    with pytest.raises(ConfigInvalid) as refused:
        load_config(config_file(tmp_path, f"sms_gateway_url = {value}"))
    assert refused.value.params["field"] == "sms_gateway_url"
    assert "sms_gateway_url" in refused.value.text() and problem in refused.value.text()


def test_an_api_key_pasted_into_the_address_is_refused_and_not_repeated(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as refused:
        load_config(config_file(tmp_path,
                                'sms_gateway_url = "https://till:s3cret@sms.example.com/send"'))
    assert "OS keyring" in refused.value.text()
    assert "s3cret" not in refused.value.text()
