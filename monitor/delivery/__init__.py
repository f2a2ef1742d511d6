"""Building blocks of outgoing notifications (RELIABILITY promises 5-8), pure and I/O-free.

One job per module:

- :mod:`monitor.delivery.signing`: Standard Webhooks signatures, secret rotation with overlap.
- :mod:`monitor.delivery.ssrf`: which user-configured URLs may be called, at registration and
  again after DNS resolution at send time.
- :mod:`monitor.delivery.retry`: what an HTTP answer means (delivered, retry, permanent), backoff
  with full jitter, ``Retry-After``, when to give up.
- :mod:`monitor.delivery.payloads`: Alertmanager, Slack and PagerDuty bodies of a notification.

The outbox relay that sends them lives elsewhere; nothing here opens a socket except the resolver
that :func:`monitor.delivery.ssrf.resolve_and_check` is given.

Exceptions (all in :mod:`monitor.delivery.errors`)::

    DeliveryError
    ├── SecretFormatError (also ValueError)  a signing secret is not whsec_ + base64 of 24-64 bytes
    ├── SignatureError                       an incoming webhook fails verification (.reason)
    ├── UnsafeURLError                       a URL may not be called (.reason)
    └── HostResolutionError                  DNS gave no answer; transient, retry later
"""
