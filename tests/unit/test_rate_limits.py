"""Rate limits: how GOTONG_RATE_LIMIT_* read, and how a token bucket spends and refills (on a clock we turn)."""

from __future__ import annotations

import pytest

from shared.config import Rate, Settings, SettingsError
from shared.ratelimit import Buckets

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gotong_serve_limits_by_default_and_the_limits_read_as_requests_per_period() -> None:
    default = Settings.from_env({})
    assert default.rate_limit is None  # the command decides: `gotong serve` on, `gotong dev` off
    assert (default.rate_per_principal, default.rate_per_address) == (Rate(100, 10), Rate(300, 10))
    assert default.rate_failed_auth == Rate(20, 60)

    chosen = Settings.from_env(
        {
            "GOTONG_RATE_LIMIT": "on",
            "GOTONG_RATE_LIMIT_PER_PRINCIPAL": "20/s",
            "GOTONG_RATE_LIMIT_PER_ADDRESS": "5000 / h",
            "GOTONG_RATE_LIMIT_FAILED_AUTH": "5/2s",
        }
    )
    assert chosen.rate_limit is True
    assert (chosen.rate_per_principal, chosen.rate_per_address) == (Rate(20, 1), Rate(5000, 3600))
    assert chosen.rate_failed_auth == Rate(5, 2)
    assert Settings.from_env({"GOTONG_RATE_LIMIT": "off", "GOTONG_RATE_LIMIT_PER_ADDRESS": "off"}).rate_limit is False
    assert Settings.from_env({"GOTONG_RATE_LIMIT_PER_ADDRESS": "OFF"}).rate_per_address is None
    assert default.trusted_proxies == "127.0.0.1,::1"  # whose X-Forwarded-For names the client
    proxies = Settings.from_env({"GOTONG_TRUSTED_PROXIES": "10.0.0.0/8, 10.1.2.3"}).trusted_proxies
    assert proxies == "10.0.0.0/8,10.1.2.3"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GOTONG_RATE_LIMIT_PER_PRINCIPAL", "600"),
        ("GOTONG_RATE_LIMIT_PER_PRINCIPAL", "0/min"),
        ("GOTONG_RATE_LIMIT_PER_ADDRESS", "10/day"),
        ("GOTONG_RATE_LIMIT_FAILED_AUTH", "5/0s"),
        ("GOTONG_RATE_LIMIT_FAILED_AUTH", "5/.s"),
        ("GOTONG_RATE_LIMIT", "sometimes"),
    ],
)
def test_a_limit_gotong_cannot_read_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_a_bucket_spends_its_burst_then_refills_at_its_rate_per_key() -> None:
    clock = Clock()
    buckets = Buckets(Rate(3, 6), clock)  # 3 at once, then one every 2 s
    assert [buckets.take("wayan") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("wayan") == pytest.approx(2.0)
    assert buckets.wait("wayan") == pytest.approx(2.0)
    assert buckets.take("sari") == 0

    clock.now += 1.5
    assert buckets.take("wayan") == pytest.approx(0.5)  # a refused request spends nothing
    clock.now += 0.5
    assert buckets.wait("wayan") == 0
    assert buckets.take("wayan") == 0
    assert buckets.take("wayan") > 0

    clock.now += 60
    assert [buckets.take("wayan") for _ in range(3)] == [0, 0, 0]  # full again, never more than the burst
    assert buckets.take("wayan") > 0


def test_full_buckets_are_forgotten_so_many_addresses_do_not_pile_up() -> None:
    clock = Clock()
    buckets = Buckets(Rate(10, 1), clock)
    for number in range(1000):
        buckets.take(f"203.0.113.{number}")
    clock.now += 2
    buckets.take("198.51.100.1")
    assert len(buckets) == 1
