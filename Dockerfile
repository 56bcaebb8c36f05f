# mend in a container: built in one stage, run in a small one as a user with
# no privileges. The database and the key live on the volume /data.
#
#   docker build -t mend .
#   docker volume create mend-data
#   docker run --rm -v mend-data:/data mend keygen /data/mend.key
#   docker run -d --name mend --restart unless-stopped -v mend-data:/data -e DISCORD_TOKEN=… mend
#   docker exec mend mend backup /data/backup-$(date -u +%Y%m%d).db
#
# See "Host it" in the README.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The lean binary: no local Discord inside (`--no-default-features`).
RUN cargo build --release --locked --no-default-features \
 && install -m 0755 target/release/mend /usr/local/bin/mend

FROM debian:bookworm-slim
# ca-certificates to reach discord.com; curl for the health check only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin mend \
 && install -d -m 0700 -o mend -g mend /data
COPY --from=build /usr/local/bin/mend /usr/local/bin/mend
USER mend
WORKDIR /data
VOLUME ["/data"]
ENV DATABASE_URL=sqlite:///data/mend.db \
    MEND_KEY_FILE=/data/mend.key \
    MEND_HTTP_ADDR=0.0.0.0:9000 \
    MEND_LOG=warn
# /healthz and /metrics (no personal data in either); publish it only where
# your monitoring reads it.
EXPOSE 9000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:9000/healthz || exit 1
# SIGTERM lets work in flight finish (bounded at 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["mend"]
CMD ["run"]
