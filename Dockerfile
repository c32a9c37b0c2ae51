# syntax=docker/dockerfile:1
# notifbot container image.
#
#   docker build -t notifbot .                          # core install
#   docker build -t notifbot --build-arg EXTRAS=teams . # also installs the `teams` extra (Microsoft Teams via Graph),
#                                                       # i.e. `pip install .[teams]`; EXTRAS=a,b works too
#   docker run -p 8080:8080 --ulimit nofile=4096:4096 -e NOTIFBOT_WEBHOOK_TOKEN=... -v notifbot-var:/app/var notifbot
#
# Open files: an image cannot set its own limit, so pass `--ulimit nofile=4096:4096` (compose: `ulimits: {nofile:
# 4096}`). `notifbot serve` needs 2 x server.max_connections + 64 file descriptors (864 for the default 400): it
# raises its soft limit up to the hard one by itself, and refuses to start (saying how many) when the hard limit
# is lower.
#
# Configuration is optional: with no config file notifbot runs the embedded default (console destination).
# To use one, mount it and point NOTIFBOT_CONFIG at it (deliberately NOT set in this image):
#   docker run ... -v "$PWD/notifbot.yaml:/etc/notifbot/notifbot.yaml:ro" \
#                  -e NOTIFBOT_CONFIG=/etc/notifbot/notifbot.yaml notifbot
# Secrets (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, MARKETO_CLIENT_SECRET, ...) come from the
# environment, never from the image.
#
# State: SQLite at storage.path, default var/notifbot.db relative to the working directory = /app/var/notifbot.db,
# kept in the /app/var volume.

# ---- builder: build a self-contained virtualenv ---------------------------------------------------------------
FROM python:3.12-slim AS builder

# Comma-separated optional extras to install, e.g. EXTRAS=teams -> `pip install .[teams]`. Empty = core only.
ARG EXTRAS=""

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md hatch_build.py ./
COPY src ./src
RUN pip install --upgrade pip \
 && pip install ".${EXTRAS:+[$EXTRAS]}"

# ---- runtime ------------------------------------------------------------------------------------------------
FROM python:3.12-slim AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

COPY --from=builder /opt/venv /opt/venv

RUN groupadd --system --gid 10001 notifbot \
 && useradd --system --uid 10001 --gid notifbot --home-dir /app --no-create-home --shell /usr/sbin/nologin notifbot \
 && mkdir -p /app/var /etc/notifbot \
 && chown -R notifbot:notifbot /app

WORKDIR /app
VOLUME /app/var
USER notifbot

EXPOSE 8080

# Liveness via the stdlib (python:*-slim has no curl/wget). If you change --port below, change it here too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

# Binding 0.0.0.0 (needed to be reachable from outside the container) requires NOTIFBOT_WEBHOOK_TOKEN:
# `notifbot serve` refuses to listen on a non-loopback address without it. Pass it with -e / a secret.
ENTRYPOINT ["notifbot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
