FROM debian:12.6-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 10001 --create-home app
USER app
HEALTHCHECK CMD curl -fsS http://localhost:8080/healthz || exit 1
CMD ["curl", "--version"]
