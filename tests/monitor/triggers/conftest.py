from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.monitor.triggers.receiver import Receiver, Respond


@pytest.fixture
def serve() -> Iterator[Callable[[Respond], Receiver]]:
    """Start real local HTTP servers; all are stopped when the test ends."""
    started: list[Receiver] = []

    def start(respond: Respond) -> Receiver:
        receiver = Receiver(respond)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as c:  # no proxy from the environment
        yield c
