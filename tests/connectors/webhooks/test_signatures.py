"""The shared HMAC check: base64(HMAC-SHA256(key, raw body)), compared in constant time."""

from __future__ import annotations

import hmac

import pytest
from pydantic import SecretStr

from connectors.webhooks.base import signature_matches
from tests.connectors.webhooks.support import signature

KEY = SecretStr("s3cret-ключ")
BODY = b'{"id":1,"note":"caf\xc3\xa9"}'


def test_the_senders_signature_matches() -> None:
    assert signature_matches(KEY, BODY, signature(KEY.get_secret_value(), BODY))
    assert signature_matches(KEY, BODY, " " + signature(KEY.get_secret_value(), BODY) + "\n")


@pytest.mark.parametrize(
    "given",
    [
        None,
        "",
        "%%%not-base64%%%",
        signature("another key", BODY),
        signature(KEY.get_secret_value(), BODY + b" "),
        signature(KEY.get_secret_value(), BODY)[:-4],  # truncated digest
    ],
)
def test_anything_else_does_not(given: str | None) -> None:
    assert not signature_matches(KEY, BODY, given)


def test_digests_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert signature_matches(KEY, BODY, signature(KEY.get_secret_value(), BODY))
    assert len(compared) == 1 and len(compared[0][0]) == 32
