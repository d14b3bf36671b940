# Helpers for building an image with no image registry: a root filesystem assembled from this machine's
# installed programs, then `docker import`. Sourced by reconciler/deploy/build-reconciler-image.sh and
# monitoring/prometheus/build-prometheus-image.sh (templates/build-tor-image.sh builds the tor image the same way).

# rootfs_elf ROOTFS FILE [DEST]: copies the program or library FILE to ROOTFS (at DEST, default FILE's own path)
# with the shared libraries it links (rootfs_libs).
rootfs_elf() {
  local rootfs=$1 file=$2 dest=${3:-$2}
  mkdir -p "$rootfs$(dirname "$dest")"
  cp -L "$file" "$rootfs$dest"
  rootfs_libs "$rootfs" "$file"
}

# rootfs_libs ROOTFS FILE: copies every shared library FILE links, and the dynamic loader, to ROOTFS at the
# paths ldd resolves on this machine (nothing for a static program or a script).
rootfs_libs() {
  local rootfs=$1 file=$2 lib
  { ldd "$file" 2>/dev/null || true; } | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do
    [ -e "$rootfs$lib" ] && continue
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}

# rootfs_base ROOTFS USER_LINE...: /etc/passwd and /etc/group (root and the given passwd lines, e.g.
# "nobody:x:65534:65534:nobody:/nonexistent:/bin/false"), hosts, nsswitch.conf and a world-writable /tmp.
rootfs_base() {
  local rootfs=$1 line
  shift
  mkdir -p "$rootfs"/{etc,tmp,root}
  printf 'root:x:0:0:root:/root:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  for line in "$@"; do
    echo "$line" >>"$rootfs/etc/passwd"
    echo "$line" | awk -F: '{ print $1 ":x:" $4 ":" }' >>"$rootfs/etc/group"
  done
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$rootfs/etc/hosts"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  chmod 1777 "$rootfs/tmp"
}

# rootfs_import ROOTFS TAG CHANGE...: imports ROOTFS as the image TAG, each CHANGE a Dockerfile instruction.
rootfs_import() {
  local rootfs=$1 tag=$2 change args=()
  shift 2
  for change in "$@"; do args+=(--change "$change"); done
  tar -C "$rootfs" -cf - . | docker import "${args[@]}" - "$tag" >/dev/null
}
