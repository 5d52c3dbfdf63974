# chaindb's app image: `chaindb run` (granian serving chaindb.wsgi:app), plus the `chaindb` CLI for
# migrations, seeds and the reports' refresher. Build context: the repository root.
#
# Two stages. The first builds chaindb's wheel (the compiled catalogs and the migrations inside,
# setup.py) with the pinned build tools. The second installs the pinned dependencies
# (requirements/app.txt, hashes checked: every build takes the same versions; `make lock` moves
# them) and that wheel, and nothing else: no source tree, no compiler leftovers, no pip cache, no
# embedded PostgreSQL (the image always has DATABASE_URL). The wheel is bind-mounted from the first
# stage (RUN --mount: BuildKit, Docker's builder since 23.0 and compose's), so no copy of it stays
# in a layer.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/build.txt requirements/build.txt
RUN pip install --require-hashes --no-deps -r requirements/build.txt
COPY pyproject.toml setup.py README.md alembic.ini ./
COPY alembic ./alembic
COPY chaindb ./chaindb
COPY seeds ./seeds
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /dist .


FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The dependencies first, in a layer of their own: a change to chaindb's code rebuilds only the
# layer below.
COPY requirements/app.txt /tmp/requirements.txt
RUN pip install --require-hashes --no-deps -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    pip install --no-deps --no-index /dist/chaindb-*.whl \
    && useradd --system --uid 10001 --create-home --home-dir /home/chaindb chaindb \
    && mkdir -p /var/lib/chaindb && chown chaindb /var/lib/chaindb

USER chaindb
# The app user's home is its own and writable (a server may keep a control socket there); the
# code is root's and read-only to it. /var/lib/chaindb keeps uploaded imports between their check
# and their confirmation.
WORKDIR /home/chaindb
ENV CHAINDB_ENV=production \
    CHAINDB_DATA_DIR=/var/lib/chaindb
EXPOSE 8000
# granian (chaindb/serve.py): one worker per core, capped so that the workers' connection pools
# fit the server's max_connections (CHAINDB_DB_CONNECTIONS); the access log on stdout.
ENV CHAINDB_ACCESS_LOG=1
CMD ["chaindb", "run", "--host", "0.0.0.0", "--port", "8000"]
