# One image for every Gotong service; the command chooses which (`gotong serve catalog`, …).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY events ./events
COPY services ./services
RUN pip install --no-cache-dir . && useradd --system --uid 10001 gotong
USER gotong
ENV GOTONG_HOST=0.0.0.0 GOTONG_PORT=8000
EXPOSE 8000
ENTRYPOINT ["gotong"]
CMD ["serve"]
