"""pyas2lib, imported safely: the one place the rest of the package gets it from.

Two quirks are handled here, once:

- pyas2lib signs and encrypts through oscrypto, whose last release (1.3.0) cannot parse OpenSSL
  version strings with a two-digit part ("OpenSSL 3.0.19") and refuses to import
  (wbond/oscrypto#75, #78; fixed on its main branch, unreleased). When, and only when, the import fails
  with exactly that error, the version probe module is loaded again with the pattern widened to
  `\\d+\\.\\d+\\.\\d+`; nothing else of oscrypto changes. With a fixed oscrypto the shim does nothing.
- pyas2lib logs every refused message with `logger.error` and a full traceback. A forged or
  undecryptable message is an expected event here (the MDN reports it, our own log line says why),
  so its records are cut to their first line.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from typing import Any

from gateway.core.errors import ConfigError

_NARROW = r"'\\b(\\d\\.\\d\\.\\d[a-z]*)\\b'"
_WIDE = r"'\\b(\\d+\\.\\d+\\.\\d+[a-z]*)\\b'"


def _load_oscrypto() -> None:
    try:
        importlib.import_module("oscrypto.asymmetric")
        return
    except Exception as error:  # oscrypto raises its own LibraryNotFoundError at import time
        if "Error detecting the version of libcrypto" not in str(error):
            raise ConfigError(
                f"AS2 needs oscrypto, which failed to load: {error}", code="AS2_LIBRARY"
            ) from None
    oscrypto = importlib.import_module("oscrypto")
    name = f"oscrypto._openssl._libcrypto_{'cffi' if oscrypto.ffi() == 'cffi' else 'ctypes'}"
    spec = importlib.util.find_spec(name)
    source = spec.loader.get_source(name) if spec and spec.loader else None  # type: ignore[attr-defined]
    if not source or _NARROW not in source:
        raise ConfigError(
            "AS2 needs oscrypto, which cannot read this OpenSSL's version; install an oscrypto release "
            "newer than 1.3.0",
            code="AS2_LIBRARY",
        )
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(compile(source.replace(_NARROW, _WIDE), spec.origin or name, "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    importlib.import_module("oscrypto.asymmetric")


class _NoTraceback(logging.Filter):
    """Turns pyas2lib's "failed to parse" errors into one debug line: what failed and why. Our own
    warning names the channel and the disposition sent back."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "Traceback" in text:
            lines = [line for line in text.strip().splitlines() if line.strip()]
            record.msg, record.args = f"{lines[0].rstrip(': ')}: {lines[-1].strip()}", None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.exc_info = record.exc_text = None
        return True


_load_oscrypto()
logging.getLogger("pyas2lib").addFilter(_NoTraceback())

from pyas2lib import as2 as _as2  # noqa: E402  # only once oscrypto is importable
from pyas2lib import exceptions as _exceptions  # noqa: E402

Message: Any = _as2.Message
Mdn: Any = _as2.Mdn
Organization: Any = _as2.Organization
Partner: Any = _as2.Partner
exceptions: Any = _exceptions

__all__ = ["Mdn", "Message", "Organization", "Partner", "exceptions"]
