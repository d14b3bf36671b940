#!/usr/bin/env bash
# Builds a Prometheus image with no image registry, from this machine's Debian `prometheus` package: the
# binary and the libraries it links, its web assets and console libraries, laid out like prom/prometheus
# (entrypoint /bin/prometheus, data in /prometheus, user nobody), imported with `docker import`.
# docker-compose.yml runs it when TORFLEET_PROMETHEUS_IMAGE names it (`make up` does so where the
# registry's prom/prometheus cannot be had).
# usage: monitoring/prometheus/build-prometheus-image.sh [TAG]   (default torfleet/prometheus:<version>-debian)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/reconciler/deploy/rootfs.sh"

prometheus_bin=$(readlink -f "$(command -v prometheus || true)")
if [ ! -x "$prometheus_bin" ]; then
  echo "build-prometheus-image: prometheus is not installed here; apt-get install prometheus" >&2
  exit 1
fi
version=$("$prometheus_bin" --version 2>&1 | sed -n 's/^prometheus, version \([0-9.]*[0-9]\).*/\1/p' | head -1)
tag=${1:-torfleet/prometheus:$version-debian}

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
rootfs_base "$rootfs" 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false'
rootfs_elf "$rootfs" "$prometheus_bin" /bin/prometheus
mkdir -p "$rootfs/etc/prometheus" "$rootfs/usr/share/prometheus" "$rootfs/prometheus"
for dir in /etc/prometheus/console_libraries /etc/prometheus/consoles; do
  [ -d "$dir" ] && cp -r "$dir" "$rootfs/etc/prometheus/"
done
[ -d /usr/share/prometheus/web ] && cp -r /usr/share/prometheus/web "$rootfs/usr/share/prometheus/"
# torfleet's configuration and rules by default (compose mounts them over these), and a data directory for nobody.
cp "$root/monitoring/prometheus/prometheus.yml" "$root/monitoring/prometheus/alerts.yml" "$rootfs/etc/prometheus/"
chown 65534:65534 "$rootfs/prometheus"

rootfs_import "$rootfs" "$tag" \
  'ENTRYPOINT ["/bin/prometheus"]' \
  'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]' \
  'USER 65534:65534' \
  'WORKDIR /prometheus' \
  'VOLUME /prometheus' \
  "LABEL torfleet.image-build=rootfs torfleet.prometheus-version=$version"
echo "built $tag (Debian's prometheus $version) without a registry"
