"""chaindb's WSGI app with row-level security out of the way, for bench/rls_cost.py only: its
requests act as the connecting user (the tables' owner), whom the policies do not bind. Never
served: it is the "without" of a with-and-without measurement."""

import chaindb.db

chaindb.db.APP_ROLE = "none"  # set_config('role', 'none'): the owner, outside the policies

from chaindb.wsgi import app  # noqa: E402

__all__ = ["app"]
