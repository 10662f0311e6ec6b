# syntax=docker/dockerfile:1
FROM ubuntu:22.04
RUN <<INSTALL bash && <<-CLEAN sh
apt-get update
apt-get install -y --no-install-recommends openssh-server
INSTALL
	rm -rf /var/lib/apt/lists/*
	CLEAN
RUN <<'EOF' cat > /usr/local/bin/entry && chmod +x /usr/local/bin/entry
#!/bin/sh
export TOKEN=$SECRET_TOKEN
exec "$@"
EOF
USER 1000
HEALTHCHECK CMD pgrep sshd
