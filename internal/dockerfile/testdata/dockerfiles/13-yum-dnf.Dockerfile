FROM rockylinux:9.3
RUN yum install -y httpd
RUN dnf install -y openssh-server && dnf clean all
RUN microdnf install -y shadow-utils && microdnf clean all
RUN zypper install -y vim
USER apache
HEALTHCHECK CMD curl -f http://localhost/
CMD ["httpd", "-DFOREGROUND"]
