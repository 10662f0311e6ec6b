FROM golang:1.22 AS builder
WORKDIR /src
COPY . .
RUN go build -o /bin/app .

FROM debian:bookworm-slim
COPY --from=builder /bin/app /usr/local/bin/app
COPY --from=busybox:latest /bin/busybox /bin/busybox
COPY --from=0 /src/config.yaml /etc/app/
USER 65532:65532
HEALTHCHECK CMD ["/usr/local/bin/app", "health"]
ENTRYPOINT ["/usr/local/bin/app"]
