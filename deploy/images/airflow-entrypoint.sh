#!/usr/bin/env bash
# The official Airflow image's entrypoint contract, reduced to what docker-compose.yaml uses:
#   bash|python ARGS   run as given
#   [airflow] CMD ...  `airflow CMD ...`
# with _AIRFLOW_DB_MIGRATE=true, `airflow db migrate` first (after waiting for the database).
set -euo pipefail
if [[ "${_AIRFLOW_DB_MIGRATE:-}" == "true" ]]; then
  for i in $(seq "${CONNECTION_CHECK_MAX_COUNT:-20}"); do
    airflow db check >/dev/null 2>&1 && break
    echo "waiting for the metadata database ($i)" >&2
    sleep "${CONNECTION_CHECK_SLEEP_TIME:-3}"
  done
  airflow db migrate
fi
case "${1:-}" in
  bash|python) exec "$@" ;;
  airflow) shift ;;
esac
exec airflow "$@"
