# SPDX-License-Identifier: MIT
# A container image with the `pulse` binary (docs/install.md, "Container image").
#   docker build -t pulse .
#   docker run --rm -v "$PWD":/data pulse run --config pipeline.toml
# Stage 1 builds on Debian 12 with scripts/setup.sh --minimal (the build packages and the pinned
# pyarrow wheel, no test tools) and packs the .deb with CPack; stage 2 installs that .deb on a
# slim Debian 12, so apt resolves the package's Depends line (librdkafka, librocksdb, ...) and
# the image holds no compiler.
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q && apt-get install -y -q --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bash scripts/setup.sh --minimal \
    && cpack --config build/release/CPackConfig.cmake -G DEB -B /dist

FROM debian:12-slim
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /dist/pulse_*.deb /tmp/
RUN apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/pulse_*.deb \
    && rm -rf /var/lib/apt/lists/* /tmp/pulse_*.deb \
    && useradd --system --uid 10001 --home-dir /data pulse
USER pulse
WORKDIR /data
ENTRYPOINT ["pulse"]
CMD ["--help"]
