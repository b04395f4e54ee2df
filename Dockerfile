# The gateway image: API, inbox watcher and (from the queue issue on) workers.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY mappings ./mappings
COPY connectors ./connectors
COPY partner_portal ./partner_portal
COPY bench ./bench
RUN pip install . && useradd --create-home --uid 10001 ordergate && mkdir -p /data && chown ordergate /data
USER ordergate
ENV ORDERGATE_HOME=/data
EXPOSE 8000
CMD ["ordergate", "serve", "--host", "0.0.0.0"]
