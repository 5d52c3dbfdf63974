# chaindb's app image: `chaindb run` (granian serving chaindb.wsgi:app), plus the `chaindb` CLI for migrations
# and seeds. Build context: the repository root.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml setup.py README.md babel.cfg alembic.ini ./
COPY alembic ./alembic
COPY chaindb ./chaindb
COPY seeds ./seeds
# The build compiles the translation catalogs (setup.py).
RUN pip install . \
    && useradd --system --uid 10001 --home /app chaindb \
    && mkdir -p /app/data && chown chaindb /app/data

USER chaindb
# data/ keeps uploaded imports between their check and their confirmation.
ENV CHAINDB_ENV=production \
    CHAINDB_ALEMBIC_INI=/app/alembic.ini \
    CHAINDB_DATA_DIR=/app/data
EXPOSE 8000
# granian (chaindb/serve.py): one worker per core, CHAINDB_WORKERS / CHAINDB_THREADS; the access
# log on stdout.
ENV CHAINDB_ACCESS_LOG=1
CMD ["chaindb", "run", "--host", "0.0.0.0", "--port", "8000"]
