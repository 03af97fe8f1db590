"""The circuit breaker of one account: a pure state machine and the actor that runs it.

``policy`` (BreakerPolicy: CLOSED -> OPEN -> HALF_OPEN, time as an argument),
``actor`` (BreakerActor: routes outcomes to the policy, runs its timer,
publishes BreakerStateChanged), ``view`` (BreakerView: the last state, read by
the account's actors at start) and ``messages``. This package re-exports
nothing: import from those modules (public names also from :mod:`mt5guard`).
"""
