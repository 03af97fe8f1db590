"""Health probing: a pure aggregation policy (``policy``), the HealthProbeActor
(``actor``) and the probe messages (``messages``).
"""
