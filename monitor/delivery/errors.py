"""The exceptions of :mod:`monitor.delivery`; the hierarchy is drawn in the package docstring.

>>> err = UnsafeURLError("scheme 'file' is not allowed (http or https only)")
>>> err.reason
"scheme 'file' is not allowed (http or https only)"
>>> isinstance(err, DeliveryError)
True
"""

from __future__ import annotations


class DeliveryError(Exception):
    """Base class of every error raised by :mod:`monitor.delivery`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SecretFormatError(DeliveryError, ValueError):
    """A signing secret is malformed. The message never contains the secret itself."""


class SignatureError(DeliveryError):
    """An incoming webhook failed verification; ``reason`` says why."""


class UnsafeURLError(DeliveryError):
    """A URL may not be called: wrong scheme, credentials, or an internal address."""


class HostResolutionError(DeliveryError):
    """The host name did not resolve. Transient: the relay retries later."""
