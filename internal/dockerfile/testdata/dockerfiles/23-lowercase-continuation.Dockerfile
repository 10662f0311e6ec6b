from python:3.11-alpine as base
# comment between instructions

env PIP_NO_CACHE_DIR=1 \
    # a comment inside a continuation is dropped
    APP_HOME=/app \

    SECRET_KEY=django-insecure-0123456789abcdefghijklmnopqrstuvwxyz
run apk add --no-cache postgresql-libs && \
    pip install gunicorn
expose 8000
user nobody
cmd gunicorn app.wsgi
