"""The gunicorn settings chaindb was served with until granian measured better (bench/server_ab.py
runs `gunicorn --config bench/gunicorn.conf.py chaindb.wsgi:app` for the A/B).

Measured with bench/api_load.py on 2 cores (bench/RESULTS.md): the requests are short and spend
most of their time in Python, so the GIL makes threads no faster than processes while adding
contention to the tail; sync workers, two per core, keep both cores busy while one worker waits
on PostgreSQL. Each worker holds its own small pools (CHAINDB_DB_POOL_SIZE, default 5; a sync
worker uses one or two connections at a time). Set CHAINDB_WORKERS / CHAINDB_THREADS to change
them (threads > 1 switches to the gthread worker).
"""

import multiprocessing
import os

bind = f"{os.environ.get('CHAINDB_HOST', '127.0.0.1')}:{os.environ.get('CHAINDB_PORT', '5000')}"
workers = int(os.environ.get("CHAINDB_WORKERS") or 2 * multiprocessing.cpu_count())
threads = int(os.environ.get("CHAINDB_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
loglevel = os.environ.get("CHAINDB_LOG_LEVEL", "info").lower()
# A worker busy longer than this is killed. The longest request is an import of the largest file
# allowed (5,000 rows, chaindb.api.tables): bench/import_rows.py measured 45-54 s on 2 cores.
timeout = 120
