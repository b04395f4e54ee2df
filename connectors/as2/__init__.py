"""AS2 (RFC 4130) with pyas2lib: signed, encrypted messages over HTTP, acknowledged by signed MDNs.

settings.py   As2Settings: AS2 names, key material by secret name or file, algorithms, MDN mode
library.py    pyas2lib imported safely (oscrypto version shim, no tracebacks in the log)
keys.py       our key pair and the partner's pinned certificate, checked with `cryptography`
inbound.py    one received message: verify, decrypt, decompress, or refuse with a negative MDN
mdn.py        dispositions we answer with, and reading (verifying) the MDNs partners send us
outbound.py   one sent message: build, POST, judge the HTTP outcome
store.py      received Message-IDs (duplicates) and sent messages awaiting their MDN
connector.py  receive / answer / deliver / send / accept_mdn / check

The HTTP endpoints are `partner_portal/routes/as2.py`.
"""

from __future__ import annotations

from connectors.as2.settings import As2Settings
from connectors.base import ChannelContext, Connector, ConnectorSpec, SecretSource


def _build(settings: As2Settings, secrets: SecretSource, context: ChannelContext) -> Connector:
    from connectors.as2.connector import As2Connector  # pyas2lib is imported only when used

    return As2Connector(settings, secrets, context)


SPEC = ConnectorSpec(
    kind="as2",
    label="AS2 (pyas2lib): signed, encrypted HTTP with signed MDNs",
    settings=As2Settings,
    factory=_build,  # type: ignore[arg-type]  # the registry validates settings into As2Settings first
    inbound=True,
    outbound=True,
    push=True,
    push_route="/as2",
)

__all__ = ["SPEC", "As2Settings"]
