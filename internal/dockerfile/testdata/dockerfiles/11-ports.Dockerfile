FROM ubuntu:24.04
RUN apt-get update && apt-get install -y --no-install-recommends x11vnc xvfb \
    && rm -rf /var/lib/apt/lists/*
EXPOSE 80 443/tcp
EXPOSE 22/tcp 23 3389
EXPOSE 5900/tcp 2375 2376
EXPOSE 6000-6010
USER 1001
HEALTHCHECK CMD pgrep x11vnc
CMD ["x11vnc", "-forever"]
