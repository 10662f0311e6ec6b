# syntax=docker/dockerfile:1.7
FROM debian:12.6-slim
RUN <<EOF
set -eu
apt-get update
apt-get install -y --no-install-recommends nginx
rm -rf /var/lib/apt/lists/*
useradd --system --uid 10001 web
EOF
COPY <<EOF /etc/nginx/conf.d/default.conf
server {
    listen 8080;
    location / { return 200 'ok'; }
}
EOF
USER web
HEALTHCHECK CMD curl -fsS http://localhost:8080/ || exit 1
CMD ["nginx", "-g", "daemon off;"]
