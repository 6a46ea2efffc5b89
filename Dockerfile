# Akhbar in a container. Not built by CI (the CI machines have no Docker engine): its install
# step is scripts/setup-venv.sh, the very script CI and the README run (here without the
# test extras).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin akhbar \
    && mkdir /data && chown akhbar:akhbar /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts/ scripts/
COPY bot/ bot/
COPY handlers/ handlers/
COPY storage/ storage/
# The bot alone, without the test tools (AKHBAR_EXTRAS empty): less memory in every process.
RUN AKHBAR_EXTRAS= scripts/setup-venv.sh
COPY deploy/config.docker.toml /etc/akhbar/config.toml

# The database, its lock file and scheduled backups live on the volume.
VOLUME ["/data"]
USER akhbar
# Health, metrics and (in webhook mode) updates; see docs/OPERATIONS.md.
EXPOSE 8080
# `akhbar health` asks the running bot's /readyz and exits 0 (ready) or 1.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/app/.venv/bin/akhbar", "--config", "/etc/akhbar/config.toml", "health"]
# SIGTERM (docker stop) finishes sends in flight and exits within seconds.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/.venv/bin/akhbar", "--config", "/etc/akhbar/config.toml"]
CMD ["run"]
