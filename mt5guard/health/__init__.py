"""Health probing of one account: a pure policy, its actor, the probe itself.

``policy`` (HealthPolicy: k8s-style failure and success thresholds),
``actor`` (HealthProbeActor: ticks, asks the session to probe, aggregates),
``probe`` (the three terminal calls the SessionActor runs for it) and
``messages``. This package re-exports nothing: import from those modules.
"""
