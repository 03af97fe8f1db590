"""Market data of one account: quotes, the quote cache and feed, bars and ticks, rate limits.

``quotes`` (QuoteHub, the cache that outlives session restarts; QuotePoller),
``feed`` (WorkerQuoteFeed: quotes a worker pushes), ``data`` (argument checks
and reads of bars, ticks and symbols), ``rate_limit`` (RateLimits) and
``messages``. This package re-exports nothing: import from those modules.
"""
