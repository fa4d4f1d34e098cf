# The offline stand-in for apache/airflow's base: Debian's Python 3.11 with the official image's
# contract, so docker-compose.yaml and ../../Dockerfile run on either unchanged —
# dumb-init as PID 1, /entrypoint running `airflow <command>` (bash/python run as given),
# user airflow 50000:0, AIRFLOW_HOME=/opt/airflow, Python packages under /home/airflow/.local.
# Airflow itself comes from the lock (../../Dockerfile installs requirements.txt).
FROM fupin/airflow-runtime:3.11-bookworm
ENV AIRFLOW_HOME=/opt/airflow \
    AIRFLOW_USER_HOME_DIR=/home/airflow \
    AIRFLOW_UID=50000 \
    DUMB_INIT_SETSID=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/home/airflow/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN useradd --uid 50000 --gid 0 --home-dir /home/airflow --create-home --shell /bin/bash airflow \
 && python3.11 -m venv /home/airflow/.local \
 && ln -s /home/airflow/.local/bin/python /usr/local/bin/python \
 && mkdir -p /opt/airflow/logs /opt/airflow/dags /opt/airflow/plugins \
 && chown -R airflow:0 /opt/airflow /home/airflow && chmod -R g+rwX /opt/airflow /home/airflow
COPY airflow-entrypoint.sh /entrypoint
RUN chmod 0755 /entrypoint
USER 50000
WORKDIR /opt/airflow
EXPOSE 8080
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]
CMD []
