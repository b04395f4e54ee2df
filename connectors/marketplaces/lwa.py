"""Login with Amazon (LWA) access tokens for one seller's authorisation of the app.

A token is obtained with the refresh token (`grant_type=refresh_token`, the app's client id and
secret, all three secrets, read when a token is needed), kept until `token_margin_seconds` before
its `expires_in`, and dropped when the SP-API refuses it, so the next call refreshes once.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from connectors.base import SecretSource
from connectors.marketplaces.clock import Clock
from connectors.marketplaces.http import ApiClient, Refused, reason
from connectors.marketplaces.settings import AmazonSpApiSettings
from gateway.core.errors import ConnectorRejected

CODE = "AMAZON_LWA"
_DEFAULT_LIFETIME = 3600  # LWA access tokens live an hour, should an answer not say


class LwaTokens:
    def __init__(
        self, settings: AmazonSpApiSettings, secrets: SecretSource, api: ApiClient, clock: Clock
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self.api = api
        self.clock = clock
        self.refreshes = 0
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"LwaTokens({self.settings.token_url!r}, refreshes={self.refreshes})"

    @property
    def credentials(self) -> str:
        s = self.settings
        return (
            f"secrets {s.client_id_secret}, {s.client_secret_secret} (the app's LWA credentials) and "
            f"{s.refresh_token_secret} (the seller's refresh token)"
        )

    async def get(self) -> str:
        """A valid access token: the cached one, or a fresh one."""
        async with self._lock:
            if self._token is None or self.clock.monotonic() >= self._expires:
                await self._refresh()
            assert self._token is not None
            return self._token

    def forget(self, token: str) -> None:
        """The SP-API refused `token`: the next `get` refreshes (unless another call already did)."""
        if self._token == token:
            self._token = None

    def seconds_left(self) -> float:
        return max(0.0, self._expires - self.clock.monotonic()) if self._token else 0.0

    async def _refresh(self) -> None:
        s = self.settings
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.secrets.get(s.refresh_token_secret).get_secret_value(),
            "client_id": self.secrets.get(s.client_id_secret).get_secret_value(),
            "client_secret": self.secrets.get(s.client_secret_secret).get_secret_value(),
        }
        what = "refresh the access token"
        try:
            reply = await self.api.request(
                "POST",
                s.token_url,
                data=form,
                what=what,
                credentials=self.credentials,
                service="Login with Amazon",
                code=CODE,
            )
        except Refused as error:
            if error.status in (400, 401, 403):
                raise ConnectorRejected(
                    f"{what}: Login with Amazon refused it (HTTP {error.status}"
                    f"{', ' + said if (said := reason(error.body)) else ''}); check {self.credentials}",
                    code=f"{CODE}_AUTH",
                ) from None
            raise
        data = reply.json(what, CODE)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ConnectorRejected(f"{what}: the answer has no access_token", code=f"{CODE}_BAD_RESPONSE")
        lifetime = data.get("expires_in")
        seconds = (
            float(lifetime)
            if isinstance(lifetime, int | Decimal) and not isinstance(lifetime, bool) and lifetime > 0
            else _DEFAULT_LIFETIME
        )
        self._token = token
        self._expires = self.clock.monotonic() + max(0.0, seconds - s.token_margin_seconds)
        self.refreshes += 1


__all__ = ["LwaTokens"]
