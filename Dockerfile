# fupin on the official Airflow image: the pinned lock (requirements.txt) and the project.
#   docker-compose build            (docker-compose.yaml builds this as fupin-airflow:local)
# The Python of the base image must be the one the lock was frozen on (3.11).
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

ENV FUPIN_HOME=/opt/fupin \
    FUPIN_DATA_ROOT=/data \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/fupin/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/fupin/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    GX_ANALYTICS_ENABLED=False \
    PYTHONDONTWRITEBYTECODE=1

USER root
# the Chinese of the PNG charts (fupin.assess.report.cjk_font)
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-noto-cjk && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /opt/fupin /data && chown -R airflow:0 /opt/fupin /data && chmod -R g+rwX /data
USER airflow

# The lock first (its layer is cached while only the project changes). apache-airflow is pinned
# in it to the base image's version, so pip cannot up- or downgrade Airflow behind our back.
COPY --chown=airflow:0 requirements.txt /opt/fupin/requirements.txt
RUN pip install --no-cache-dir -r /opt/fupin/requirements.txt

COPY --chown=airflow:0 pyproject.toml README.md /opt/fupin/
COPY --chown=airflow:0 include /opt/fupin/include
RUN pip install --no-cache-dir --no-deps /opt/fupin

# Configuration is data: units, contracts, targets, pools. A county mounts its own config/ over this.
COPY --chown=airflow:0 config /opt/fupin/config
COPY --chown=airflow:0 reference /opt/fupin/reference
COPY --chown=airflow:0 expectations /opt/fupin/expectations
COPY --chown=airflow:0 dags /opt/fupin/dags
COPY --chown=airflow:0 plugins /opt/fupin/plugins

WORKDIR /opt/fupin
