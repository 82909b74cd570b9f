# contentapi: the GraphQL content API with the bundled content/ and its built index baked in.
# Build: docker build -t contentapi .   Run: docker run -p 8000:8000 contentapi
#
# Three stages: `app` installs the project; `index` runs `contentapi build` over the content
# (every page parsed once, here, on the build machine's cores); the image is `app` with the
# content and that one index file, so a new container serves in seconds whatever the page
# count, without parsing a page.
FROM python:3.11-slim AS app

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

FROM app AS index
COPY content/ /content/
# All cores of the build machine (build's default); no page cache (nothing to keep it for).
RUN contentapi build /content -o /index/content.sqlite --cache-dir ""

FROM app
# The content and its index, read-only for the server. The index is checked against the
# folder at start: to serve other pages mounted over /content, build an image of them (or
# set CONTENTAPI_INDEX= to parse them at start instead; a stale index is refused, naming
# the first file that differs).
COPY --from=index /content/ /content/
COPY --from=index /index/content.sqlite /index/content.sqlite

# Settings come from CONTENTAPI_* variables; the cache folder (transformed pictures, the
# change record, and the page cache if the index is turned off) goes to /tmp (writable).
ENV CONTENTAPI_CONTENT_DIR=/content \
    CONTENTAPI_INDEX=/index/content.sqlite \
    CONTENTAPI_CACHE_DIR=/tmp/contentapi-cache
WORKDIR /app
USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

CMD ["contentapi", "serve", "--host", "0.0.0.0", "--port", "8000"]
