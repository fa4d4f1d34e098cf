# Samba from Debian's packages: each unit's shared folder (configured by `fupin share-config`,
# which airflow-init writes into the share-config volume; see samba-entrypoint.sh).
FROM fupin/samba-runtime:4.17-bookworm
# the file-share's own user: writes the clerks' files as a member of group 0, which may write
# only into 报送/核查结果 (0770) and read 回执/退回 (0750) — never the platform's other folders
RUN useradd --uid 50001 --gid 0 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin fupin-share \
 && rm -f /etc/samba/smb.conf && mkdir -p /etc/fupin-share /run/samba
COPY samba-entrypoint.sh /usr/local/bin/samba-entrypoint
RUN chmod 0755 /usr/local/bin/samba-entrypoint
EXPOSE 445
HEALTHCHECK --interval=10s --timeout=5s --retries=10 CMD bash -c '</dev/tcp/127.0.0.1/445'
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/samba-entrypoint"]
