# Optiscope: the web app (and the `optiscope` command line) in one image that works offline.
#
#   docker build -t optiscope .                         # CPU torch from download.pytorch.org/whl/cpu
#   docker run --rm -p 8000:8000 optiscope              # then open http://localhost:8000
#
# Build arguments:
#   TORCH_INDEX_URL  where torch comes from (default: the CPU-only index). For a CUDA build use
#                    e.g. --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126 and
#                    run with --gpus all (needs the NVIDIA Container Toolkit on the host).
#   TORCH_SPEC       the torch requirement (default torch==2.13.0).
#   TORCH_WHEELS     a folder of the build context holding a torch wheel (e.g. .wheels): torch is
#                    installed from there and nowhere else, for builds where the torch index is
#                    out of reach or PyPI's CUDA wheels are unwanted. The other dependencies still
#                    come from PyPI.
#
# Settings are environment variables (OPTISCOPE_PORT, OPTISCOPE_DEVICE, OPTISCOPE_MAX_STEPS, ...;
# see app/settings.py), e.g. docker run -e OPTISCOPE_MAX_CONCURRENT_RUNS=4 ...
#
# RUN --mount needs BuildKit (Docker's default builder since 23.0) or podman/buildah.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_SPEC=torch==2.13.0
ARG TORCH_WHEELS=
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv

# torch first, on its own, so that the project's plain `torch>=2.4` is already satisfied and pip
# never resolves it to PyPI's multi-GB CUDA build. The build context is bind-mounted (not copied)
# so a wheel folder never ends up in a layer.
RUN --mount=type=bind,source=.,target=/context \
    if [ -n "$TORCH_WHEELS" ]; then \
        pip install --no-index --no-deps --find-links "/context/$TORCH_WHEELS" "$TORCH_SPEC"; \
    else \
        pip install --index-url "$TORCH_INDEX_URL" "$TORCH_SPEC"; \
    fi

# Then the project's other dependencies, read from pyproject.toml, so that editing the code
# never reinstalls them (a layer of its own). They include torch's own dependencies when torch
# came from TORCH_WHEELS.
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; print(*tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    # C++ test binaries and headers: only needed to build extensions, never to run Optiscope.
    && rm -rf /opt/venv/lib/python3.11/site-packages/torch/test \
              /opt/venv/lib/python3.11/site-packages/torch/include


FROM ${PYTHON_IMAGE}
RUN groupadd --gid 10001 optiscope \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin optiscope
ENV PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
COPY --from=build /opt/venv /opt/venv
# The project is installed editable from /app: app/main.py serves the page from the static/
# folder next to the source tree, which a regular install into site-packages would leave
# behind. No build isolation: the venv's setuptools builds it, offline, in a second.
WORKDIR /app
COPY pyproject.toml README.md ./
COPY app app
COPY engine engine
COPY landscapes landscapes
COPY optimizers optimizers
COPY tasks tasks
COPY static static
RUN pip install --no-deps --no-build-isolation --editable . \
    && pip check \
    # Byte-compiled now, because the non-root user cannot write __pycache__ at run time.
    && python -m compileall -q /app
# OPTISCOPE_ALLOWED_HOSTS: the Host header values answered (others get a 400, which stops
# DNS-rebinding pages). A container is reached by names it cannot know (localhost through -p,
# its name on a network, a proxy's name), so the image answers any. For a public deployment
# list your host names instead, keeping 127.0.0.1 for the HEALTHCHECK below, e.g.
#   docker run -e OPTISCOPE_ALLOWED_HOSTS='["optiscope.example.org", "127.0.0.1"]' ...
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OPTISCOPE_HOST=0.0.0.0 \
    OPTISCOPE_PORT=8000 \
    OPTISCOPE_ALLOWED_HOSTS='["*"]'
USER optiscope
EXPOSE 8000
# python:3.11-slim has no curl; the standard library is enough.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/health' % os.environ['OPTISCOPE_PORT'], timeout=4)"]
CMD ["optiscope", "serve"]
