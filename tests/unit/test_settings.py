"""Typed settings from PHOENIX_* variables (``phoenix_platform.settings``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import pytest
from phoenix_executor.settings import ExecutorSettings
from phoenix_gateway.settings import GatewaySettings
from phoenix_platform.settings import BaseSettings, SettingsError, describe, load


class SecretSettings(BaseSettings, frozen=True, kw_only=True):
    secret_fields = frozenset({"redis_url", "api_token"})

    api_token: Annotated[
        str, msgspec.Meta(min_length=16, description="Token for the upstream API")
    ] = "0123456789abcdef"


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = load(BaseSettings, {})
    assert settings == BaseSettings()
    assert (settings.namespace, settings.health_port) == ("phx", 8081)


def test_variables_are_read_and_converted_to_their_types() -> None:
    settings = load(
        BaseSettings,
        {
            "PHOENIX_HEALTH_PORT": "9000",
            "PHOENIX_NAMESPACE": "staging-2",
            "PHOENIX_LOG_LEVEL": "debug",
            "PHOENIX_MAX_DELIVER": "7",
            "UNRELATED": "ignored",
        },
    )
    assert (settings.health_port, settings.namespace, settings.log_level) == (
        9000,
        "staging-2",
        "debug",
    )
    assert settings.max_deliver == 7


BAD_VALUES = [
    ("not-an-int", "PHOENIX_HEALTH_PORT", "eighty"),
    ("port-too-large", "PHOENIX_HEALTH_PORT", "70000"),
    ("negative-port", "PHOENIX_HEALTH_PORT", "-1"),
    ("max-deliver-zero", "PHOENIX_MAX_DELIVER", "0"),
    ("namespace-pattern", "PHOENIX_NAMESPACE", "Bad Namespace!"),
    ("namespace-leading-digit", "PHOENIX_NAMESPACE", "1phx"),
    ("log-format-pattern", "PHOENIX_LOG_FORMAT", "xml"),
    ("log-level-pattern", "PHOENIX_LOG_LEVEL", "verbose"),
]


@pytest.mark.parametrize(
    ("variable", "value"), [row[1:] for row in BAD_VALUES], ids=[row[0] for row in BAD_VALUES]
)
def test_a_bad_value_is_an_error_naming_the_variable_and_the_value(
    variable: str, value: str
) -> None:
    with pytest.raises(SettingsError) as error:
        load(BaseSettings, {variable: value})
    message = str(error.value)
    assert message.startswith(f"{variable}: ")
    assert repr(value) in message


def test_a_wrong_int_names_phoenix_health_port() -> None:
    with pytest.raises(SettingsError, match=r"^PHOENIX_HEALTH_PORT: Expected `int`"):
        load(BaseSettings, {"PHOENIX_HEALTH_PORT": "abc"})


def test_a_secret_field_is_read_from_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "redis_url"
    secret.write_text("redis://:s3cret@cache.internal:6379/2\n", encoding="utf-8")
    settings = load(SecretSettings, {"PHOENIX_REDIS_URL_FILE": str(secret)})
    assert settings.redis_url == "redis://:s3cret@cache.internal:6379/2"


def test_the_file_wins_over_the_plain_variable(tmp_path: Path) -> None:
    secret = tmp_path / "redis_url"
    secret.write_text("redis://from-file:6379/0", encoding="utf-8")
    settings = load(
        SecretSettings,
        {"PHOENIX_REDIS_URL_FILE": str(secret), "PHOENIX_REDIS_URL": "redis://from-env:6379/0"},
    )
    assert settings.redis_url == "redis://from-file:6379/0"


def test_a_missing_secret_file_is_an_error_naming_the_file_variable(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SettingsError) as error:
        load(SecretSettings, {"PHOENIX_REDIS_URL_FILE": str(missing)})
    assert str(error.value).startswith("PHOENIX_REDIS_URL_FILE: ")
    assert str(missing) in str(error.value)


def test_a_file_variable_is_ignored_for_a_field_that_is_not_secret(tmp_path: Path) -> None:
    path = tmp_path / "log_level"
    path.write_text("debug", encoding="utf-8")
    settings = load(SecretSettings, {"PHOENIX_LOG_LEVEL_FILE": str(path)})
    assert settings.log_level == BaseSettings().log_level


def test_server_urls_may_come_from_files_since_they_carry_credentials(tmp_path: Path) -> None:
    path = tmp_path / "database_url"
    path.write_text("postgresql://app:s3cret@db:5432/phoenix\n", encoding="utf-8")
    settings = load(BaseSettings, {"PHOENIX_DATABASE_URL_FILE": str(path)})
    assert settings.database_url == "postgresql://app:s3cret@db:5432/phoenix"


def test_a_bad_secret_value_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as error:
        load(SecretSettings, {"PHOENIX_API_TOKEN": "hunter2"})
    assert str(error.value).startswith("PHOENIX_API_TOKEN: ")
    assert "<secret>" in str(error.value)
    assert "hunter2" not in str(error.value)


def test_a_bad_secret_value_from_a_file_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("tooshort\n", encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load(SecretSettings, {"PHOENIX_API_TOKEN_FILE": str(path)})
    assert "PHOENIX_API_TOKEN" in str(error.value)
    assert "tooshort" not in str(error.value)


def test_describe_lists_every_field_with_its_variable_default_and_description() -> None:
    rows = describe(SecretSettings)
    variables = [variable for variable, _, _ in rows]
    assert variables == ["PHOENIX_" + field.upper() for field in SecretSettings.__struct_fields__]
    assert "PHOENIX_HEALTH_PORT" in variables
    assert "PHOENIX_API_TOKEN" in variables
    by_variable = {variable: (default, text) for variable, default, text in rows}
    assert by_variable["PHOENIX_HEALTH_PORT"][0] == "8081"
    assert by_variable["PHOENIX_API_TOKEN"][1] == "Token for the upstream API"
    assert all(text for _, _, text in rows), "every setting documents itself"


def test_describe_shows_a_subclass_override() -> None:
    rows = {variable: default for variable, default, _ in describe(ExecutorSettings)}
    assert rows["PHOENIX_HEALTH_PORT"] == "8084"
    assert rows["PHOENIX_ALLOW_PRIVATE_TARGETS"] == ""


# --- the executor's settings ------------------------------------------------------------


@pytest.mark.parametrize("value", ["nonsense", "10.0.0.0/8,bogus", "10.0.0.0/40"])
def test_a_bad_private_target_list_is_an_error_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="PHOENIX_ALLOW_PRIVATE_TARGETS"):
        load(ExecutorSettings, {"PHOENIX_ALLOW_PRIVATE_TARGETS": value})


def test_a_valid_private_target_list_is_accepted() -> None:
    settings = load(ExecutorSettings, {"PHOENIX_ALLOW_PRIVATE_TARGETS": "127.0.0.0/8, 10.1.0.0/16"})
    assert settings.allow_private_targets == "127.0.0.0/8, 10.1.0.0/16"


def test_a_bad_region_is_an_error_naming_phoenix_region() -> None:
    with pytest.raises(SettingsError, match=r"^PHOENIX_REGION: "):
        load(ExecutorSettings, {"PHOENIX_REGION": "EU West"})


@pytest.mark.parametrize("value", ["EU West", "", " , ", "eu,Mars"])
def test_a_bad_list_of_regions_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match=r"^PHOENIX_REGIONS: "):
        load(GatewaySettings, {"PHOENIX_REGIONS": value})


def test_the_known_regions_are_read_from_a_comma_separated_list() -> None:
    settings = load(GatewaySettings, {"PHOENIX_REGIONS": "default, eu-west"})
    assert settings.region_names == {"default", "eu-west"}


@pytest.mark.parametrize("value", ["dns.google", "1.1.1.1:99999"])
def test_a_bad_dns_check_resolver_is_an_error_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="PHOENIX_DNS_CHECK_RESOLVER"):
        load(ExecutorSettings, {"PHOENIX_DNS_CHECK_RESOLVER": value})
