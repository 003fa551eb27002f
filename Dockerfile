# Two stages: build wheels with the full toolchain, then install them into a slim image
# that runs as a non-root user. No secret is baked in: pass TELEGRAM_BOT_TOKEN at run time.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[webhooks]"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 antifraud \
    && mkdir /data && chown antifraud /data
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY intents ./intents
COPY content ./content
ENV ANTIFRAUD_INTENTS_DIR=/app/intents \
    ANTIFRAUD_CONTENT_DIR=/app/content \
    ANTIFRAUD_DB=/data/antifraud.db \
    ANTIFRAUD_CACHE_DIR=/data/cache \
    PYTHONUNBUFFERED=1
USER antifraud
VOLUME ["/data"]
ENTRYPOINT ["antifraud-bot"]
CMD ["run"]
