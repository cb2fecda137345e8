# Kv server image (docs/deploy.md). Build from the repository root: docker build -t kv-server .
# Stage 1 builds with the SDK; stage 2 runs on the ASP.NET runtime alone.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Only what the server's build reads; .dockerignore keeps bin/, obj/ and local data out.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY proto/ proto/
COPY src/ src/
# Framework-dependent for linux-x64: the runtime image supplies .NET, and RocksDB's native library for linux-x64
# comes with the RocksDB package (compression libraries linked in; it needs only glibc, libm and libgcc_s).
RUN dotnet publish src/Kv.Server/Kv.Server.csproj -c Release -r linux-x64 --no-self-contained -o /app \
    && mkdir -p /volume/var/lib/kv

# Ubuntu 24.04 chiseled: glibc (RocksDB's native library does not load on musl/Alpine) without a shell or a
# package manager. Its "app" user is UID 1654.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled
WORKDIR /app
COPY --from=build /app ./
COPY --from=build --chown=1654:1654 /volume/var/lib/kv /var/lib/kv
# The settings a pod runs with (deploy/k8s/statefulset.yaml repeats them); docs/configuration.md lists them all.
ENV KV_DATA_DIR=/var/lib/kv \
    KV_LISTEN=http://0.0.0.0:7100 \
    KV_METRICS_LISTEN=http://0.0.0.0:7180
USER 1654
VOLUME /var/lib/kv
# 7100: client, peer and admin gRPC (HTTP/2). 7180: /metrics (HTTP/1.1).
EXPOSE 7100 7180
# The server's own "health" command asks the node on loopback for gRPC health: no probe binary or shell needed.
HEALTHCHECK --interval=30s --timeout=10s --retries=3 CMD ["dotnet", "/app/Kv.Server.dll", "health"]
ENTRYPOINT ["dotnet", "/app/Kv.Server.dll"]
