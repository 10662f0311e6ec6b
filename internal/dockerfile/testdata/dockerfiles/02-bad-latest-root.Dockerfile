FROM ubuntu:latest
RUN apt-get update && apt-get install -y curl ca-certificates
COPY run.sh /usr/local/bin/run.sh
CMD ["/usr/local/bin/run.sh"]
