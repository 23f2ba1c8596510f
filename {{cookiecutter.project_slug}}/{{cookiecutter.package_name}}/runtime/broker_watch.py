"""Whether the Kafka brokers of ``KAFKA_BROKER`` accept connections, checked every few seconds.

Faust and aiokafka retry on their own while the brokers are gone, and say little about
it: the worker looks idle. ``BrokerWatch`` tries a TCP connection to each address of
``KAFKA_BROKER`` in turn; the brokers count as reachable while any one of them accepts.
Readiness answers 503 with the address and the error while none does, and the stall
check (``stalls.py``) does not count that time against the partitions.

Started without a reachable broker, Faust's producer fails to bootstrap and the worker
exits. ``ServiceApp`` instead waits for one in ``wait_until_reachable()``, before
Faust's Kafka services start: its web server answers (live, not ready) and the log has
one line naming the addresses it cannot reach.
"""

import asyncio
import logging
import time
from urllib.parse import urlsplit

from mode import Service

logger = logging.getLogger(__name__)

DEFAULT_PORT = 9092
# How often the brokers are tried, and how long one connection attempt may take.
CHECK_INTERVAL = 2.0
CONNECT_TIMEOUT = 2.0


def bootstrap_addresses(brokers: str) -> list[tuple[str, int]]:
    """The (host, port) pairs of ``KAFKA_BROKER``: ``kafka://host:port``, separated by ``;``."""
    addresses = []
    for url in brokers.split(";"):
        url = url.strip()
        if not url:
            continue
        parts = urlsplit(url if "://" in url else f"kafka://{url}")
        addresses.append((parts.hostname or "localhost", parts.port or DEFAULT_PORT))
    return addresses


def address_text(addresses: list[tuple[str, int]]) -> str:
    return ", ".join(f"{host}:{port}" for host, port in addresses)


async def first_error(addresses: list[tuple[str, int]]) -> str | None:
    """``None`` once one of ``addresses`` accepts a TCP connection, else the last failure."""
    error = "no broker address configured"
    for host, port in addresses:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
        except TimeoutError:
            error = f"{host}:{port}: no answer within {CONNECT_TIMEOUT:.0f} s"
        except OSError as exc:
            error = f"{host}:{port}: {exc.strerror or exc}"
        else:
            writer.close()
            return None
    return error


class BrokerWatch(Service):
    """Knows whether any broker of ``brokers`` accepted a connection at the last check."""

    def __init__(self, brokers: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.addresses = bootstrap_addresses(brokers)
        self.error: str | None = None
        # time.monotonic() of the first failed check of the current outage.
        self.unreachable_since: float | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None

    def unreachable_because(self) -> str | None:
        """Why the brokers count as unreachable now, or ``None`` while they are reachable."""
        if self.error is None:
            return None
        since = 0.0 if self.unreachable_since is None else time.monotonic() - self.unreachable_since
        return f"Kafka broker unreachable for {since:.0f} s ({self.error})"

    async def check(self) -> bool:
        """Try the brokers once and remember the answer; whether one accepted."""
        error = await first_error(self.addresses)
        if error is None and self.error is not None:
            logger.info("Kafka broker reachable again: %s", address_text(self.addresses))
            self.unreachable_since = None
        elif error is not None and self.error is None:
            logger.warning("Kafka broker unreachable: %s", error)
            self.unreachable_since = time.monotonic()
        self.error = error
        return error is None

    @Service.timer(CHECK_INTERVAL)
    async def _check_periodically(self) -> None:
        await self.check()

    async def wait_until_reachable(self, waiter: Service) -> bool:
        """Return once a broker accepts a connection (``True``), or ``waiter`` stops (``False``).

        Logs one warning naming the addresses while it waits, and one line when it is over.
        """
        began = time.monotonic()
        error = await first_error(self.addresses)
        if error is None:
            return True
        self.error, self.unreachable_since = error, began
        logger.warning(
            "Waiting for the Kafka broker: no broker of KAFKA_BROKER (%s) accepts connections "
            "(%s); the worker stays not ready and starts once one does",
            address_text(self.addresses),
            error,
        )
        while error is not None:
            await waiter.sleep(CHECK_INTERVAL)
            if waiter.should_stop:
                return False
            error = await first_error(self.addresses)
            self.error = error
        self.unreachable_since = None
        logger.info(
            "Kafka broker reachable at %s after %.0f s: starting",
            address_text(self.addresses),
            time.monotonic() - began,
        )
        return True
