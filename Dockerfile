# Multi-stage build: a static binary on distroless/static, which runs as root (uid 0) so the
# action can write the runner's file commands (GITHUB_OUTPUT is owned by the runner's user).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/launchplane/runtime-identity/internal/action.Version=${VERSION}" -o /runtime-identity ./cmd/action

FROM gcr.io/distroless/static
COPY --from=build /runtime-identity /runtime-identity
ENTRYPOINT ["/runtime-identity"]
