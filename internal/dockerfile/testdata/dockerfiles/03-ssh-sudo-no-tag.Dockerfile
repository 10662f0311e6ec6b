FROM debian
RUN apt-get update
RUN apt-get install -y --no-install-recommends openssh-server sudo \
    && mkdir /var/run/sshd \
    && echo 'root:changeme' | chpasswd
EXPOSE 22
CMD ["/usr/sbin/sshd", "-D"]
