"""I01's exit targets: the largest-remainder split and the half-year rule. Pure functions,
shared by the assessment and the demo county that must meet them."""

from __future__ import annotations


def largest_remainder(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Split `total` in proportion to `weights`; leftover units by largest remainder, ties to
    the lower key. The shares sum to `total` exactly."""
    whole = sum(weights.values())
    quotas = {k: total * w / whole for k, w in weights.items()}
    shares = {k: int(q) for k, q in quotas.items()}
    left = total - sum(shares.values())
    for k in sorted(weights, key=lambda k: (-(quotas[k] - shares[k]), k))[:left]:
        shares[k] += 1
    return shares


def h1_target(prev: int, year_end: int) -> int:
    """Half-year target: previous cumulative + ⌊½ × the year's increment⌋."""
    return prev + (year_end - prev) // 2
