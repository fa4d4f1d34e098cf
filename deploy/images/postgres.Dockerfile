# PostgreSQL from Debian's packages, with the official postgres image's contract:
# POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB, PGDATA=/var/lib/postgresql/data, and the
# scripts of /docker-entrypoint-initdb.d run once, at the first start.
FROM fupin/postgres:15-bookworm
RUN rm -rf /var/lib/postgresql/15 /etc/postgresql/15 \
 && mkdir -p /docker-entrypoint-initdb.d /var/run/postgresql "$PGDATA" \
 && chown postgres:postgres /var/run/postgresql "$PGDATA" && chmod 0775 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
