"""Seeded windows for the slice tests: three dimensions, one optional hot pair of values."""

from __future__ import annotations

import numpy as np

COUNTRIES = ["KR", "US", "DE", "BR", "JP"]
DEVICES = ["ios", "android", "web", "tv"]
PLANS = ["free", "pro", "team"]
HOT = "country=KR&device=ios"  # 1/5 * 1/4 = 5% of rows


def window(seed: int, n: int = 1000, hot_rate: float = 0.10,
           base_rate: float = 0.10) -> tuple[dict[str, list[str]], np.ndarray]:
    """``({dim: column}, bad)``: uniform dimensions; rows of ``HOT`` fail at ``hot_rate``."""
    rng = np.random.default_rng(seed)
    country = rng.choice(COUNTRIES, n)
    device = rng.choice(DEVICES, n)
    plan = rng.choice(PLANS, n)
    hot = (country == "KR") & (device == "ios")
    bad = (rng.random(n) < np.where(hot, hot_rate, base_rate)).astype(np.int64)
    return {"country": country.tolist(), "device": device.tolist(), "plan": plan.tolist()}, bad


def touches_hot(key: str) -> bool:
    """Whether a slice shares rows with ``HOT`` and so really is worse than its rest."""
    items = dict(part.split("=") for part in key.split("&"))
    return items.get("country", "KR") == "KR" and items.get("device", "ios") == "ios"
