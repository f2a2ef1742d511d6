"""One torch thread for these tests: tiny tensors run faster without thread hand-offs (much
faster on a busy machine), and the numbers do not depend on the core count."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
