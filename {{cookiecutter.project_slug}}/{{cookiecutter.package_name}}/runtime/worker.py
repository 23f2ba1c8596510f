"""The worker process: Faust's, without the terminal spinner that makes quiet levels costly.

At ``--loglevel warn`` and above, Faust's worker (faust-streaming 0.15.3,
``faust/worker.py``) draws a progress spinner on the terminal and, to spin it on every
log record, sets the root logger to DEBUG: every debug record is then built, and a
quieter level costs more CPU than ``info``. A service logs to a collector, not a
terminal: ``Worker`` leaves the spinner out, so the root logger keeps the level asked
for. ``tests/runtime/test_worker.py`` checks it.
"""

import logging

import faust


class Worker(faust.Worker):
    """Faust's worker with no spinner at any log level."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        self.spinner = None
        super().on_setup_root_logger(logger, level)
