"""What the process reports about itself: metrics, health endpoint, log lines.

Everything here is a bus subscriber or a consumer of reports; the core never
depends on it. Nothing is configured at import: metrics live in their own
registry and only :func:`configure_logging` (for ``run.py``) touches logging.
"""

from mt5guard.observability.http import HealthServer, HealthServerBindError, readiness_report
from mt5guard.observability.logs import EventLogger, JsonFormatter, configure_logging, status_line
from mt5guard.observability.metrics import Metrics

__all__ = [
    "EventLogger",
    "HealthServer",
    "HealthServerBindError",
    "JsonFormatter",
    "Metrics",
    "configure_logging",
    "readiness_report",
    "status_line",
]
