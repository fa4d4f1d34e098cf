#!/usr/bin/env bash
# Start smbd with the shares `fupin share-config` wrote (smb.conf, accounts), one account per
# unit and one for the engineers; each account's password from FUPIN_SHARE_PASSWORD_<ACCOUNT>
# (in .env). An account without a password stops the service: no share is ever open without one.
set -euo pipefail
conf=${FUPIN_SHARE_CONFIG:-/etc/fupin-share}
for i in $(seq 60); do [[ -s "$conf/smb.conf" && -s "$conf/accounts" ]] && break; sleep 1; done
[[ -s "$conf/smb.conf" ]] || { echo "no $conf/smb.conf: run 'fupin share-config' (airflow-init does)" >&2; exit 1; }
missing=()
while read -r account _; do
  [[ -z "$account" || "$account" == \#* ]] && continue
  var="FUPIN_SHARE_PASSWORD_${account^^}"
  [[ -n "${!var:-}" && "${!var}" != change-me* ]] || missing+=("$var")
done < "$conf/accounts"
if (( ${#missing[@]} )); then
  echo "refusing to start: set ${missing[*]} in .env (one password per share account; not empty, not the change-me placeholder)" >&2
  exit 1
fi
listed=()
while read -r account _; do
  [[ -z "$account" || "$account" == \#* ]] && continue
  listed+=("$account")
  id -u "$account" >/dev/null 2>&1 || useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --gid nogroup "$account"
  var="FUPIN_SHARE_PASSWORD_${account^^}"
  printf '%s\n%s\n' "${!var}" "${!var}" | smbpasswd -c "$conf/smb.conf" -s -a "$account" >/dev/null
done < "$conf/accounts"
# an account no longer listed (a unit removed from units.yaml) loses its access
for account in $(pdbedit -s "$conf/smb.conf" -L 2>/dev/null | cut -d: -f1); do
  [[ " ${listed[*]} " == *" $account "* ]] || pdbedit -s "$conf/smb.conf" -x "$account" >/dev/null
done
# the passwords are in the passdb now; smbd itself needs none of the environment's secrets
for var in $(compgen -e); do case "$var" in FUPIN_SHARE_PASSWORD_*|*PASSWORD*|*SECRET*|*KEY*) unset "$var" ;; esac; done
exec smbd --foreground --no-process-group --debug-stdout -s "$conf/smb.conf"
