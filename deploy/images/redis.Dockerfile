# Redis from Debian's package, with the official redis image's contract: runs as redis, its
# data (the append-only file of the Celery broker's queue) in /data.
FROM fupin/redis:7.0-bookworm
USER root
RUN mkdir -p /data && chown redis:redis /data && chmod 0750 /data
USER redis
WORKDIR /data
EXPOSE 6379
CMD ["redis-server"]
