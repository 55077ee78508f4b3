"""Running the server: health checks, Prometheus metrics and structured logs.

Nothing here knows the domain; each module has an `init_app` that `create_app` calls.
"""
