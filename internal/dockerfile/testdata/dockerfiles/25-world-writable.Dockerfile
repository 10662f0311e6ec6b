# A service whose data and tools are writable by every user.
FROM debian:12.6-slim
RUN useradd --uid 10001 app \
    && mkdir -p /opt/app/data /var/scratch \
    && chmod -R 777 /opt/app \
    && chmod 1777 /var/scratch
COPY --chmod=0777 run.sh /usr/local/bin/run.sh
COPY --chmod=4755 helper /usr/local/bin/helper
COPY --chown=app --chmod=0755 app /opt/app/bin/app
USER 10001
HEALTHCHECK CMD ["/opt/app/bin/app", "health"]
