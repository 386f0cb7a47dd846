# convene: one replica. Build with `docker build -t convene .`; compose.yaml runs two.
# Two stages: the first installs convene into a virtualenv, the second copies only
# that virtualenv onto a fresh slim image, so no build tooling ships.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/convene
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
RUN /opt/convene/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/convene/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONVENE_HTTP_HOST=0.0.0.0 \
    CONVENE_HTTP_PORT=3000 \
    CONVENE_DB=/data/convene.db \
    CONVENE_LOG_FORMAT=json
RUN groupadd --system --gid 10001 convene \
    && useradd --system --uid 10001 --gid convene --home-dir /data --no-create-home convene \
    && mkdir /data && chown convene:convene /data
COPY --from=build /opt/convene /opt/convene
USER convene
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
STOPSIGNAL SIGTERM
# The slim image has no curl: python's urllib fails (non-zero exit) on anything but 2xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('CONVENE_HTTP_PORT', '3000') + '/healthz', timeout=4)"]
CMD ["convene", "run"]
