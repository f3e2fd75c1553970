"""Settings from the environment: a bad value names its variable and is refused."""

from __future__ import annotations

import pytest

from caucus.config import Config


def test_the_media_connect_timeout_is_read_and_must_be_positive() -> None:
    assert Config.from_env({}, load_secrets=False).media_connect_timeout_s == 30.0
    env = {"CAUCUS_MEDIA_CONNECT_TIMEOUT_S": "12.5"}
    assert Config.from_env(env, load_secrets=False).media_connect_timeout_s == 12.5
    for bad in ("0", "-3", "nan", "inf"):
        with pytest.raises(ValueError, match="MEDIA_CONNECT_TIMEOUT_S must be seconds, finite"):
            Config.from_env({"CAUCUS_MEDIA_CONNECT_TIMEOUT_S": bad}, load_secrets=False)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("CAUCUS_MEDIA_CONNECT_TIMEOUT_S", "soon"),
        ("CAUCUS_PORT", "eighty"),
        ("CAUCUS_RETENTION_DAYS", "1.5"),
    ],
)
def test_a_value_that_is_no_number_names_its_variable(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}='{raw}' is not a valid value$"):
        Config.from_env({name: raw}, load_secrets=False)
