FROM python:3.12.4-slim-bookworm AS build
USER root
RUN pip install --no-cache-dir --prefix=/install flask==3.0.3 gunicorn==22.0.0

FROM python:3.12.4-slim-bookworm
COPY --from=build /install /usr/local
RUN groupadd -r app && useradd -r -g app app
USER root
RUN mkdir -p /srv/app && chown app:app /srv/app
USER app
WORKDIR /srv/app
COPY --chown=app:app . .
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://localhost:8000/health')"
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
