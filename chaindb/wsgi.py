"""The WSGI entry point: `chaindb run` serves chaindb.wsgi:app with granian (chaindb/serve.py)."""

import gc

from chaindb import create_app, start_background

app = create_app()
start_background(app)
# What start-up made (the app, its OpenAPI document, SQLAlchemy's metadata, the catalogs) lives
# as long as the process: moved out of the collector's sight, a full collection no longer walks
# it, which paused a request for several milliseconds now and then (bench/RESULTS.md, p99).
gc.freeze()
