FROM scratch
COPY --chown=65534:65534 app /app
USER 65534
ENTRYPOINT ["/app"]
