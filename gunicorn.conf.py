"""Gunicorn settings for `make run`: where to listen and how many workers, from the environment."""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# WEB_CONCURRENCY is gunicorn's own convention; default: two workers per core, at least two.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count() * 2)))
wsgi_app = "microblog:create_app()"
accesslog = "-"
timeout = 30
graceful_timeout = 10
# The control socket (one path per machine by default) is not used; several servers on one
# machine would otherwise delete each other's.
control_socket_disable = True
