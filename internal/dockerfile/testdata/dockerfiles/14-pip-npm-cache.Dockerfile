FROM python:3.12.4-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
RUN pip install --no-cache-dir uvicorn==0.30.1
RUN useradd -m app
USER app
HEALTHCHECK CMD python -c "print('ok')"
CMD ["uvicorn", "main:app"]
