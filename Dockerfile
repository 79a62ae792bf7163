# Amigo: one image for every mode. Build: docker build -t amigo .
#   polling, SQLite in the volume:  docker run --init --env-file .env -v amigo-data:/app/data amigo
#   webhook, several workers, PostgreSQL: see docker-compose.yml and README.md, Running at scale
# Secrets come only from the environment (TELEGRAM_BOT_TOKEN, OPENAI_API_KEY, AMIGO_MASTER_KEY,
# TELEGRAM_WEBHOOK_SECRET, or NAME_FILE pointing at a mounted file); none is baked in here.

# --- build: install the package and its dependencies into a virtualenv (no dev extras) ---
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# Only what `pip install .` needs (the .dockerignore keeps the rest out of the context).
COPY pyproject.toml README.md ./
COPY core ./core
COPY safety ./safety
COPY storage ./storage
COPY handlers ./handlers
COPY jobs ./jobs
COPY bot ./bot
RUN /opt/venv/bin/pip install . \
    && cd / && /opt/venv/bin/python -m bot config-template > /dev/null

# --- runtime: the virtualenv, a non-root user and an empty data directory ---
FROM python:3.11-slim
# AMIGO_OPS__LISTEN: /healthz and /metrics in polling mode too (webhook mode serves them on
# telegram.webhook_listen, 8443). Keep both ports off the internet: only the webhook path belongs
# behind the public TLS proxy.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AMIGO_OPS__LISTEN=0.0.0.0:8080
# A fixed uid/gid (10001), so volume and host file ownership is predictable.
RUN groupadd --system --gid 10001 amigo \
    && useradd --system --uid 10001 --gid amigo --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin amigo \
    && mkdir -p /app/data \
    && chown -R amigo:amigo /app \
    && chmod 0700 /app/data
COPY --from=build /opt/venv /opt/venv
COPY deploy/healthcheck.py /usr/local/lib/amigo/healthcheck.py
WORKDIR /app
# data/amigo.db (SQLite), data/master.key (only when AMIGO_MASTER_KEY is unset), data/backups.
VOLUME ["/app/data"]
USER 10001:10001
# 8443: webhook listener (telegram.webhook_listen); 8080: /healthz and /metrics in polling mode.
EXPOSE 8443 8080
# Migrations run at start (one worker migrates, the others wait): give the first start time.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "/usr/local/lib/amigo/healthcheck.py"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
