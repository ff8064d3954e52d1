# syntax=docker/dockerfile:1
# The API server image. Build: `docker build -t graphql-api .`; run it with DATABASE_URL,
# SECRET_KEY and QR_SECRET_KEY in the environment (see compose.yaml). It listens on 8000.

# ---- builder: the runtime lock in a virtualenv ---------------------------------------------
# Only requirements.lock: no test tools, no embedded PostgreSQL (the image always has
# DATABASE_URL). Every pin carries its hashes; pip refuses any other file.
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-virtualenv --require-hashes --only-binary=:all: -r requirements.lock
# The package runs from /app, where migrations/ sits next to graphql_api/ (graphql_api.db.migrate
# finds it there). A compat-mode editable install adds /app to the path and the `graphql-api`
# script; the runtime stage puts the same sources at the same place.
COPY pyproject.toml README.md ./
COPY graphql_api ./graphql_api
RUN pip install --require-virtualenv --no-deps --config-settings editable_mode=compat -e .

# ---- GraphiQL's files: the npm packages of the lock, from the registry, integrity-checked --
# fetch.py is standard library only; this layer changes only when the lock does.
FROM python:3.11-slim AS ide-assets
WORKDIR /ide
COPY graphql_api/api/core/ide/fetch.py graphql_api/api/core/ide/lock.json ./
RUN python fetch.py

# ---- runtime: the virtualenv and the application, as an unprivileged user ------------------
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/.data
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY pyproject.toml README.md schema.graphql ./
COPY graphql_api ./graphql_api
COPY --from=ide-assets /ide/vendor ./graphql_api/api/core/ide/vendor
COPY migrations ./migrations
# Sources stay root-owned (read-only for the server); only the data directory is writable.
RUN mkdir -p /app/.data && chown app:app /app/.data
USER 10001:10001
EXPOSE 8000
# No curl in the slim image: probe with Python. urlopen raises (exit 1) on anything but 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health/live', timeout=4)"]
# SIGTERM (docker stop) lets in-flight requests finish (up to 20 s) and closes WebSockets
# with 1012; give the container that long (compose.yaml: stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["graphql-api", "serve"]
