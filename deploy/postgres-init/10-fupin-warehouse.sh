#!/bin/bash
# First start of the PostgreSQL container: the warehouse gets its own database beside Airflow's.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -c "CREATE DATABASE \"${FUPIN_WAREHOUSE_DB:-fupin}\" OWNER \"$POSTGRES_USER\""
