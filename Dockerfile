# contentapi: the GraphQL content API with the bundled content/ baked in at /content.
# Build: docker build -t contentapi .   Run: docker run -p 8000:8000 contentapi
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the project from this checkout, pinned by the lockfile.
COPY pyproject.toml README.md constraints.txt /tmp/src/
COPY contentapi/ /tmp/src/contentapi/
RUN pip install --no-cache-dir -c /tmp/src/constraints.txt /tmp/src \
    && rm -rf /tmp/src \
    && groupadd --system --gid 10001 contentapi \
    && useradd --system --uid 10001 --gid contentapi --no-create-home \
        --home-dir /app --shell /usr/sbin/nologin contentapi

# Content is read-only for the server; mount a volume over /content to serve other pages.
COPY content/ /content/

# Settings come from CONTENTAPI_* variables; the warm-start cache goes to /tmp (writable).
ENV CONTENTAPI_CONTENT_DIR=/content \
    CONTENTAPI_CACHE_DIR=/tmp/contentapi-cache
WORKDIR /app
USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["contentapi", "serve", "--host", "0.0.0.0", "--port", "8000"]
