FROM debian:12.6
RUN useradd -u 1000 app
USER 0:0
HEALTHCHECK CMD true
CMD ["bash"]
