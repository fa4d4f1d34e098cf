# fupin's image: the pinned lock (requirements.txt) and the project, on an Airflow base image.
#   make images     builds it offline, on fupin/airflow-base:offline (deploy/images: Debian's
#                   Python 3.11 with the official image's contract), from build/wheelhouse
#   docker-compose build    the same on the official apache/airflow:3.3.2-python3.11
# Nothing is downloaded here: every package comes from build/wheelhouse (`make images` fills
# it with `pip wheel` on the host), so the build runs on an intranet with no index at all.
# The Python of the base image must be the one the lock was frozen on (3.11).
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11

# The lock and the project's own wheel, installed where the base keeps Python packages
# (/home/airflow/.local: the official image's user site, the offline base's venv); only that
# folder is carried over, so the wheels themselves never weigh on the image. apache-airflow is
# pinned in the lock to the base image's version: pip cannot up- or downgrade it behind our back.
FROM ${AIRFLOW_IMAGE} AS packages
COPY --chown=airflow:0 build/wheelhouse /tmp/wheelhouse
COPY --chown=airflow:0 requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --no-index --find-links /tmp/wheelhouse -r /tmp/requirements.txt
# the project last: its layer alone is rebuilt when only the project changed
COPY --chown=airflow:0 build/project /tmp/project
RUN pip install --no-cache-dir --no-index --find-links /tmp/project --no-deps fupin

FROM ${AIRFLOW_IMAGE}
ENV FUPIN_HOME=/opt/fupin \
    FUPIN_DATA_ROOT=/data \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/fupin/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/fupin/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    GX_ANALYTICS_ENABLED=False \
    PYTHONDONTWRITEBYTECODE=1

USER root
# the Chinese of the PNG charts (fupin.assess.report.cjk_font): in the offline base already; the
# official image gets Debian's package (a connected site's build may reach Debian's mirror)
RUN test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-noto-cjk && rm -rf /var/lib/apt/lists/*)
RUN mkdir -p /opt/fupin /data && chown -R airflow:0 /opt/fupin /data && chmod -R g+rwX /data
USER airflow
COPY --from=packages --chown=airflow:0 /home/airflow/.local /home/airflow/.local

# Configuration is data: units, contracts, targets, pools. A county mounts its own config/ over this.
COPY --chown=airflow:0 requirements.txt /opt/fupin/requirements.txt
COPY --chown=airflow:0 config /opt/fupin/config
COPY --chown=airflow:0 reference /opt/fupin/reference
COPY --chown=airflow:0 expectations /opt/fupin/expectations
COPY --chown=airflow:0 dags /opt/fupin/dags
COPY --chown=airflow:0 plugins /opt/fupin/plugins
COPY --chown=airflow:0 deploy/refuse-placeholders.sh /opt/fupin/deploy/refuse-placeholders.sh

WORKDIR /opt/fupin
