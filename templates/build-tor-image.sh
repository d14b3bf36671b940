#!/usr/bin/env bash
# Builds the proxies' tor image with no image registry: a minimal root filesystem holding this
# machine's tor (Debian package `tor`), the libraries it links, Tor's GeoIP files and a user to run as,
# imported with `docker import`. Where a registry is reachable, templates/Dockerfile builds the same
# image from debian:bookworm-slim instead (`make image` picks).
# usage: templates/build-tor-image.sh [TAG]   (default torfleet/tor:<major.minor.patch of tor>)
set -euo pipefail

tor_bin=$(readlink -f "$(command -v tor || true)")
if [ ! -x "$tor_bin" ]; then
  echo "build-tor-image: tor is not installed here; apt-get install tor tor-geoipdb" >&2
  exit 1
fi
version=$("$tor_bin" --version | sed -n 's/^Tor version \([0-9.]*[0-9]\).*/\1/p' | head -1)
tag=${1:-torfleet/tor:$(echo "$version" | cut -d. -f1-3)}

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{usr/bin,usr/share/tor,etc/tor,var/lib/tor,tmp}
cp "$tor_bin" "$rootfs/usr/bin/tor"
# Every shared library tor links, and the dynamic loader, at the paths ldd resolves.
ldd "$tor_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
# The HEALTHCHECK program (no shell in this image): static, so it needs no library of its own.
if ! command -v gcc >/dev/null 2>&1; then
  echo "build-tor-image: gcc is needed to build tor-healthcheck; apt-get install gcc libc6-dev" >&2
  exit 1
fi
gcc -O2 -static -o "$rootfs/usr/bin/tor-healthcheck" "$(dirname "$0")/tor-healthcheck.c"
for file in /usr/share/tor/geoip /usr/share/tor/geoip6; do
  [ -f "$file" ] && cp "$file" "$rootfs/usr/share/tor/"
done
# tor runs as uid 1000 (user "tor"); the reconciler gives each proxy's data directory to that uid.
printf 'root:x:0:0:root:/root:/bin/false\ntor:x:1000:1000:tor:/var/lib/tor:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\ntor:x:1000:\n' > "$rootfs/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$rootfs/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
chown 1000:1000 "$rootfs/var/lib/tor" && chmod 700 "$rootfs/var/lib/tor"
chmod 1777 "$rootfs/tmp"

tar -C "$rootfs" -cf - . | docker import \
  --change 'ENTRYPOINT ["/usr/bin/tor"]' \
  --change 'CMD ["-f", "/etc/tor/torrc", "--defaults-torrc", "/dev/null"]' \
  --change 'USER 1000:1000' \
  --change 'HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/bin/tor-healthcheck", "/var/lib/tor"]' \
  --change "LABEL torfleet.tor-version=$version" \
  - "$tag" >/dev/null
echo "built $tag (tor $version) from this machine's tor package, without a registry"
