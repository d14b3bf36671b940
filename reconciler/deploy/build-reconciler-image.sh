#!/usr/bin/env bash
# Builds the reconciler image with no image registry: a root filesystem holding this machine's node 20, the
# built dist/, production node_modules (better-sqlite3 is native: built for this very node), schemas/,
# templates/, tor (for --verify-config and the process runtime) and git (its git-core helpers, a /bin/sh for
# local transports, CA certificates), imported with `docker import`. The same image as reconciler/Dockerfile
# builds from node:20-bookworm-slim where a registry is reachable (`make reconciler-image` picks).
# usage: reconciler/deploy/build-reconciler-image.sh [TAG]   (default torfleet/reconciler:latest; run npm run build first)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/reconciler/deploy/rootfs.sh"
tag=${1:-torfleet/reconciler:latest}
fail() {
  echo "build-reconciler-image: $*" >&2
  exit 1
}

[ -f "$root/dist/reconciler/src/cli/main.js" ] || fail "no dist/ in $root: run npm run build first"
node_bin=$(readlink -f "$(command -v node || true)")
[ -x "$node_bin" ] || fail "node is not installed here; install node 20"
node_version=$("$node_bin" --version)
[[ $node_version == v20.* ]] || fail "node here is $node_version; the image runs node 20 (the Dockerfile's node:20)"
for program in tor git npm; do
  command -v "$program" >/dev/null 2>&1 || fail "$program is not installed here; apt-get install $program (npm: with node)"
done

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
app=$rootfs/app
mkdir -p "$app/dist" "$rootfs/var/lib/torfleet"
cp -r "$root/dist/reconciler" "$app/dist/reconciler"
cp -r "$root/schemas" "$root/templates" "$app/"
cp "$root/package.json" "$root/package-lock.json" "$root/.npmrc" "$app/"
# This checkout's node_modules (a symlink in a worktree: its contents), less the dev dependencies; offline.
mkdir "$app/node_modules"
cp -a "$root/node_modules/." "$app/node_modules/"
(cd "$app" && npm prune --omit=dev --offline --no-audit --no-fund >/dev/null) ||
  fail "npm prune --omit=dev failed in $app; run npm ci first"
rm "$app/package-lock.json" "$app/.npmrc"
"$node_bin" -e "new (require('$app/node_modules/better-sqlite3'))(':memory:').close()" 2>/dev/null ||
  fail "better-sqlite3 in node_modules was not built for $node_version: npm rebuild better-sqlite3"

rootfs_base "$rootfs"
rootfs_elf "$rootfs" "$node_bin" /usr/bin/node
rootfs_elf "$rootfs" "$(readlink -f "$(command -v tor)")" /usr/bin/tor
mkdir -p "$rootfs/usr/share/tor"
for file in /usr/share/tor/geoip /usr/share/tor/geoip6; do
  [ -f "$file" ] && cp "$file" "$rootfs/usr/share/tor/"
done
# git, its helpers where git looks for them (git --exec-path; symlinks kept), and every library they link.
git_bin=$(readlink -f "$(command -v git)")
exec_path=$(git --exec-path)
rootfs_elf "$rootfs" "$git_bin" /usr/bin/git
mkdir -p "$rootfs$exec_path"
tar -C "$exec_path" -cf - . | tar -C "$rootfs$exec_path" -xf -
find "$exec_path" -type f -perm -u+x | while read -r helper; do rootfs_libs "$rootfs" "$helper"; done
[ -d /usr/share/git-core/templates ] && mkdir -p "$rootfs/usr/share/git-core" &&
  cp -r /usr/share/git-core/templates "$rootfs/usr/share/git-core/"
printf '[safe]\n\tdirectory = *\n' >"$rootfs/etc/gitconfig"
# git runs local transports (a repository path) through /bin/sh.
rootfs_elf "$rootfs" "$(readlink -f /bin/sh)" /bin/sh
[ -f /etc/ssl/certs/ca-certificates.crt ] ||
  fail "no CA certificates here (/etc/ssl/certs/ca-certificates.crt); apt-get install ca-certificates"
mkdir -p "$rootfs/etc/ssl/certs"
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"

rootfs_import "$rootfs" "$tag" \
  'ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/root NODE_ENV=production TORFLEET_DB=/var/lib/torfleet/torfleet.db TORFLEET_STATE_DIR=/var/lib/torfleet' \
  'WORKDIR /app' \
  'VOLUME /var/lib/torfleet' \
  'ENTRYPOINT ["node", "/app/dist/reconciler/src/cli/main.js"]' \
  'CMD ["run"]' \
  "LABEL torfleet.image-build=rootfs torfleet.node-version=$node_version"
echo "built $tag (node $node_version) from this machine's node, tor and git, without a registry"
