# storeplane's container image: the dashboard built with npm, the binary with cargo (locked
# dependencies), and a distroless runtime that holds nothing but the binary and runs as a
# numeric non-root user. No HEALTHCHECK: on Kubernetes the chart's probes (/healthz,
# /readyz) decide health.
#
#   docker build -t storeplane:dev .
#
# Base images are pinned by exact version; override with --build-arg to move them.

ARG NODE_IMAGE=docker.io/library/node:20.19.5-bookworm-slim
ARG RUST_IMAGE=docker.io/library/rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# --- the dashboard: dashboard/ -> dashboard/dist ---
FROM ${NODE_IMAGE} AS dashboard
WORKDIR /src/dashboard
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY dashboard/ ./
RUN npm run build

# --- the binary, with the fresh dashboard build embedded ---
FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml clippy.toml ./
COPY crates crates
COPY --from=dashboard /src/dashboard/dist dashboard/dist
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p storeplane \
 && install -D -m 0755 target/release/storeplane /out/storeplane \
 && mkdir -p /out/data

# --- runtime: glibc and CA certificates, no shell, uid/gid 65532 ---
FROM ${RUNTIME_IMAGE}
COPY --from=build /out/storeplane /usr/local/bin/storeplane
# Owned by the runtime user, so a volume mounted here by `docker run` is writable too.
COPY --from=build --chown=65532:65532 /out/data /var/lib/storeplane
# The SQLite data directory when no PostgreSQL URL is given; the chart mounts a volume here.
ENV STOREPLANE_DATA_DIR=/var/lib/storeplane \
    STOREPLANE_LISTEN=0.0.0.0:8080
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/storeplane"]
CMD ["serve"]
