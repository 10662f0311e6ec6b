FROM --platform=$BUILDPLATFORM golang:1.22.5@sha256:39b7e6ebaca464d51989858871f792f2e186dce8ce0cbdba7e88e4444b244407 AS build
ARG TARGETOS TARGETARCH
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app .

FROM gcr.io/distroless/base-debian12@sha256:8dd8d3ca2cf283383304fd45a5c9c74d5f2cd9da8d3b077d720e264880077c65 AS final
COPY --from=build /out/app /
USER 1234
HEALTHCHECK CMD ["/app", "health"]
ENTRYPOINT ["/app"]
