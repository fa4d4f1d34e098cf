# The mail sink of an offline install (Mailpit has no Debian package and no image can be pulled
# on an intranet): the project's own SMTP sink (every message kept as an .eml) with a web view
# and Mailpit's message-list API, on Mailpit's ports (SMTP 1025, web 8025).
FROM fupin/mailsink-runtime:bookworm
RUN useradd --uid 50002 --gid 0 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mailsink \
 && mkdir -p /var/lib/mailsink /opt/mailsink && chown mailsink:0 /var/lib/mailsink && chmod 0750 /var/lib/mailsink
COPY include/fupin/ops/mailsink.py deploy/images/mailsink_web.py /opt/mailsink/
USER mailsink
EXPOSE 1025 8025
VOLUME /var/lib/mailsink
HEALTHCHECK --interval=10s --timeout=5s --retries=10 CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8025/api/v1/messages?limit=1')"
ENTRYPOINT ["/usr/bin/tini", "--", "python3", "/opt/mailsink/mailsink_web.py", "/var/lib/mailsink"]
