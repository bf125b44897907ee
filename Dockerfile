# syntax=docker/dockerfile:1
# One image for every Gotong service; the command chooses which (`gotong serve catalog`, `gotong migrate`, …).
# Its name and tag come from one place, `gotong image` (the package version); the release workflow builds it.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- build: the locked runtime dependencies (hash-checked) and Gotong itself, into a virtual environment ---
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/gotong
WORKDIR /src
COPY requirements.lock ./
RUN /opt/gotong/bin/pip install --require-hashes --no-deps --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY events ./events
COPY services ./services
COPY demo ./demo
RUN /opt/gotong/bin/pip install --no-deps . && /opt/gotong/bin/python -m compileall -q /opt/gotong

# --- runtime: the virtual environment only, run by an unprivileged user ---
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.0.0
ARG SOURCE=https://github.com/gotong/gotong
LABEL org.opencontainers.image.title="gotong" \
      org.opencontainers.image.description="Event-sourced backend for export marketplaces" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 gotong \
    && useradd --system --uid 10001 --gid gotong --home-dir /var/lib/gotong --create-home gotong
COPY --from=build /opt/gotong /opt/gotong
ENV PATH=/opt/gotong/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GOTONG_HOST=0.0.0.0 \
    GOTONG_PORT=8000 \
    GOTONG_DATA_DIR=/var/lib/gotong
WORKDIR /var/lib/gotong
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('GOTONG_PORT', '8000') + '/health', timeout=2)"]
ENTRYPOINT ["gotong"]
CMD ["serve"]
