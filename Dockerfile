# The action's image: a static binary on distroless/static, which runs as root (uid 0) so the
# action can write the runner's file commands (GITHUB_OUTPUT belongs to the runner's user).
#
# The Go stage runs on the build machine's platform and cross-compiles for the target, so the
# release's multi-arch build (linux/amd64, linux/arm64) needs no emulation. `uses: ./` builds this
# file on the runner; a release's action.yml runs the published image instead (docs/release.md).
#
# Base images are pinned by the digest of their multi-arch index, with the tag kept for people and
# for Dependabot, which proposes new digests (.github/dependabot.yml). The pins are the indexes of
# golang:1.26-bookworm (Go 1.26.8) and gcr.io/distroless/static-debian12:latest as published in
# September 2026; refresh with
#   docker buildx imagetools inspect golang:1.26-bookworm --format '{{.Manifest.Digest}}'
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS TARGETARCH
# VERSION is stamped into the binary (runtime-identity version, the summary, the user agent).
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X github.com/launchplane/runtime-identity/internal/action.Version=${VERSION}" \
      -o /runtime-identity ./cmd/action

FROM gcr.io/distroless/static-debian12:latest@sha256:d75cdd72874d4790092fcb1b058493ecf6bb5bf2b2b897045b00ff01d91843f2
COPY --from=build /runtime-identity /runtime-identity
ENTRYPOINT ["/runtime-identity"]
