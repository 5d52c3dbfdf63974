"""chaindb: industrial-chain investment promotion on PostgreSQL.

The app is built in chaindb.app. Its names are found here on first use (PEP 562), so that
`from chaindb import create_app` works while the command line (chaindb --help, chaindb db ...)
starts without importing Flask and the web stack.
"""

from __future__ import annotations

from typing import Any

_APP = ("create_app", "start_background", "App", "JSONProvider", "LANGUAGES", "babel")


def __getattr__(name: str) -> Any:
    if name in _APP:
        from chaindb import app

        return getattr(app, name)
    raise AttributeError(f"module 'chaindb' has no attribute {name!r}")
