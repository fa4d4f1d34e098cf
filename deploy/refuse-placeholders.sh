#!/usr/bin/env bash
# airflow-init runs this first: a deployment whose secrets are still the .env.example
# placeholders (change-me...) stops here, before any database or service is set up with them.
set -u
bad=()
for name in POSTGRES_PASSWORD REDIS_PASSWORD AIRFLOW_FERNET_KEY AIRFLOW_JWT_SECRET; do
  value="${!name:-}"
  if [[ -z "$value" || "$value" == change-me* ]]; then
    bad+=("$name")
  fi
done
if (( ${#bad[@]} )); then
  echo "refusing to start: set real values in .env for ${bad[*]} (still empty or the change-me placeholder of .env.example)" >&2
  exit 1
fi
