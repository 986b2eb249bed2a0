# syntax=docker/dockerfile:1
# The tillbridge image: one static binary (the built-in plugins are embedded in it at build time
# by host/build.rs) on distroless/static, as a non-root user. Build: docker build -t tillbridge .
#
# Static with musl, not glibc with crt-static: the host resolves names itself with getaddrinfo
# (tokio::net::lookup_host), which a static glibc can only do by loading NSS libraries at run
# time, and the image has none; musl's resolver is in the binary and reads /etc/resolv.conf as a
# pod has it. distroless/static, not scratch: it brings the CA certificates rustls checks the
# systems' certificates against (/etc/ssl/certs), /etc/passwd with the user `nonroot` (65532) and
# tzdata, and still no shell. Pin both images by digest in your own build.

FROM rust:1.95-bookworm AS build
# musl-tools: ring's C and assembly for the musl target. wasm32-wasip2: the plugins, which
# host/build.rs builds in a nested cargo with its own target folder (target/plugins).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
ARG TARGETARCH
RUN case "${TARGETARCH:-amd64}" in \
      amd64) echo x86_64-unknown-linux-musl ;; \
      arm64) echo aarch64-unknown-linux-musl ;; \
      *) echo "no musl target for $TARGETARCH" >&2; exit 1 ;; \
    esac >/rust-target \
 && rustup target add "$(cat /rust-target)" wasm32-wasip2
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p tillbridge --bin tillbridge --target "$(cat /rust-target)" \
 && cp "target/$(cat /rust-target)/release/tillbridge" /tillbridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /tillbridge /tillbridge
USER 65532:65532
# The dashboard, /healthz, /readyz and /metrics (with --listen 0.0.0.0:8780, as deploy/ runs it).
EXPOSE 8780
ENTRYPOINT ["/tillbridge"]
CMD ["--help"]
