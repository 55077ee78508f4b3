"""Background jobs (post exports) and the executors that run them."""
