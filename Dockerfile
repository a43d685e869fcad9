# syntax=docker/dockerfile:1
# voxhub, CPU only: `docker build -t voxhub .` then `docker compose up` (see docs/deploy.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a venv with voxhub from a wheel of this checkout, and the model files ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# Debian's security updates are wanted, so packages are not pinned to a version.
# Compilers for the dependencies that build from source on some platforms (llama-cpp-python).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/voxhub
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/voxhub/bin/pip install --upgrade pip \
    && /opt/voxhub/bin/pip install ".[postgres,redis]"
# Models at build time, into the image (not the data volume): nothing is downloaded when it runs.
ENV VOXHUB_MODELS_DIR=/opt/voxhub-models
RUN /opt/voxhub/bin/voxhub models install

# ---- runtime: the venv, the models and the system libraries only ----
FROM ${PYTHON_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng libespeak-ng1 ffmpeg libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 1000 --user-group --home-dir /data --no-create-home voxhub \
    && mkdir -p /data && chown voxhub:voxhub /data
COPY --from=build /opt/voxhub /opt/voxhub
COPY --from=build /opt/voxhub-models /opt/voxhub-models
COPY deploy/docker/entrypoint.sh /usr/local/bin/voxhub-entrypoint
ENV PATH=/opt/voxhub/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    VOXHUB_MODELS_DIR=/opt/voxhub-models \
    VOXHUB_DATA_DIR=/data \
    VOXHUB_HOST=0.0.0.0
USER 1000:1000
WORKDIR /data
VOLUME ["/data"]
# HTTP/WebSocket (`port`) and Wyoming (`wyoming_port`: keep it equal to the port you publish).
EXPOSE 8129 10900
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["voxhub-entrypoint", "healthcheck"]
ENTRYPOINT ["voxhub-entrypoint"]
CMD ["serve"]
