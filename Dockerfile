# syntax=docker/dockerfile:1
# Two stages: install from uv.lock into /opt/venv (non-editable), then copy only that venv into
# a slim runtime that runs as a numeric non-root user. Every dependency has a wheel, so no
# compiler or apt package is needed.
#   docker build -t capbrief .
#   docker run --rm -v capbrief-data:/data capbrief                      # no token: preview in /data/out
#   docker run -d --secret ... -e DISCORD_TOKEN_FILE=/run/secrets/discord_token -v capbrief-data:/data capbrief
# compose.yaml runs it with PostgreSQL.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_NO_CACHE=1
RUN pip install uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
# Dependencies alone first: this layer is reused until uv.lock changes.
RUN uv sync --locked --no-install-project --no-editable --extra postgres
COPY bot ./bot
COPY cogs ./cogs
COPY analytics ./analytics
RUN uv sync --locked --no-editable --extra postgres

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib \
    HOME=/data \
    CAPBRIEF_STORAGE__URL=sqlite:////data/capbrief.sqlite3 \
    CAPBRIEF_HEALTH__ENABLED=true \
    CAPBRIEF_HEALTH__HOST=0.0.0.0 \
    CAPBRIEF_HEALTH__PORT=8080
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /data capbrief \
    && mkdir -p /data/out && chown -R 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY config.example.toml ./config.example.toml
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# /healthz: 200 when ready, connected to the gateway and the data is fresh (only while the bot
# runs; the no-token preview exits at once). Standard library only, so a check costs ~50 ms.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]
# DISCORD_TOKEN or DISCORD_TOKEN_FILE set: the bot. Neither: a briefing preview in /data/out.
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run", "--out", "/data/out"]
