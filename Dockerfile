# The driftline image: API, worker, relay, migrations and simulator (the command picks which).
# No ENTRYPOINT: every compose command starts with `driftline`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (a layer that survives source changes), read from pyproject.toml; the
# optional extras (torch, test, bench, docs) are not installed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The package. Installed in place (-e): `driftline db upgrade` and /readyz find the Alembic
# scripts next to the package (alembic/ and alembic.ini at the project root), which a plain
# `pip install .` would leave behind.
COPY README.md alembic.ini ./
COPY alembic ./alembic
COPY monitor ./monitor
COPY detectors ./detectors
COPY dashboards ./dashboards
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 10001 --user-group driftline

USER driftline
EXPOSE 8000
CMD ["driftline", "serve", "--host", "0.0.0.0", "--port", "8000"]
