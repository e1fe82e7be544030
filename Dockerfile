# syntax=docker/dockerfile:1
# Multi-stage: build wheels with a compiler, run on a slim image as a non-root user.
#   docker build -t capbrief .
#   docker run -e DISCORD_TOKEN=... -v capbrief-data:/data capbrief
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY analytics ./analytics
RUN python -m venv /opt/venv && /opt/venv/bin/pip install ".[postgres]"

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib \
    CAPBRIEF_STORAGE__URL=sqlite:////data/capbrief.sqlite3
RUN useradd --create-home --uid 10001 capbrief && mkdir -p /data && chown capbrief /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY config.example.toml ./config.example.toml
USER capbrief
VOLUME ["/data"]
# With DISCORD_TOKEN set this starts the bot; without it, it writes a briefing preview and exits.
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
