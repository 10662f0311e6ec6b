FROM nginx:1.27.0
USER nginx
COPY site/ /usr/share/nginx/html/
USER root
HEALTHCHECK CMD curl -f http://localhost/ || exit 1
