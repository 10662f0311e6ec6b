FROM alpine:3.20.1
ADD https://github.com/example/tool/releases/download/v1.2.3/tool-linux-amd64.tar.gz /tmp/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/pinned.tar.gz /opt/
ADD rootfs.tar.xz /
ADD config.json /etc/app/config.json
ADD git@github.com:example/repo.git /src
USER 1000
HEALTHCHECK NONE
