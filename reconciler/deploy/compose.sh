#!/usr/bin/env bash
# `make up` / `make down`: docker-compose.yml with whichever compose is installed (the `docker compose` plugin,
# else Debian's docker-compose 1.29), and only the services whose images this machine can have.
#   up [SERVICE...]  starts SERVICEs (default: all that can run here), never building: the reconciler image
#                    must be there (make reconciler-image). Prometheus is the compose file's prom/prometheus, or
#                    where that cannot be had, one built from Debian's prometheus package
#                    (monitoring/prometheus/build-prometheus-image.sh, named in TORFLEET_PROMETHEUS_IMAGE).
#                    Grafana and cAdvisor come only from a registry: where their images cannot be had they are
#                    skipped, with a note.
#   down             stops and removes the services; the proxies keep running, the volumes are kept.
# PULL=0: never ask a registry for an image, only use those already here. COMPOSE_PROJECT_NAME and
# COMPOSE_FILE work as compose documents them (the tests run a project of their own this way).
set -euo pipefail
cd "$(dirname "$0")/../.."

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "compose: neither the docker compose plugin nor docker-compose is installed; apt-get install docker-compose (or make deps)" >&2
  exit 1
fi
say() { echo "compose: $*"; }

# available IMAGE: the image is here, or (unless PULL=0) a pull of it succeeds.
available() {
  docker image inspect "$1" >/dev/null 2>&1 && return 0
  [ "${PULL:-1}" != 0 ] && docker pull -q "$1" >/dev/null 2>&1
}
# image_of SERVICE: the image the compose file (interpolated: $config) names for SERVICE.
image_of() {
  echo "$config" | awk -v service="  $1:" '
    $0 == "services:" { in_services = 1; next }
    /^[^ ]/ { in_services = 0 }
    in_services && $0 == service { inside = 1; next }
    in_services && /^  [^ ]/ { inside = 0 }
    inside && $1 == "image:" { print $2; exit }'
}

case "${1:-}" in
up)
  shift
  services=("$@")
  [ "${#services[@]}" -gt 0 ] || services=(reconciler prometheus grafana cadvisor)
  config=$("${compose[@]}" config)
  run=()
  for service in "${services[@]}"; do
    image=$(image_of "$service")
    [ -n "$image" ] || { echo "compose: docker-compose.yml has no service $service (or no image for it)" >&2; exit 1; }
    if [ "$service" = reconciler ] && ! docker image inspect "$image" >/dev/null 2>&1; then
      echo "compose: the reconciler image $image is not built; run make reconciler-image" >&2
      exit 1
    fi
    if [ "$service" = prometheus ] && [ -z "${TORFLEET_PROMETHEUS_IMAGE:-}" ] && ! available "$image"; then
      version=$(prometheus --version 2>/dev/null | sed -n 's/^prometheus, version \([0-9.]*[0-9]\).*/\1/p' | head -1)
      export TORFLEET_PROMETHEUS_IMAGE=torfleet/prometheus:${version:-local}-debian
      say "$image cannot be had here: Prometheus runs $TORFLEET_PROMETHEUS_IMAGE, built from Debian's prometheus"
      monitoring/prometheus/build-prometheus-image.sh "$TORFLEET_PROMETHEUS_IMAGE"
    elif [ "$service" != reconciler ] && [ "$service" != prometheus ] && ! available "$image"; then
      if [ "${PULL:-1}" = 0 ]; then why="is not here (PULL=0: no registry asked)"; else why="is not here and cannot be pulled (no registry reachable)"; fi
      say "skipping $service: its image $image $why"
      continue
    fi
    run+=("$service")
  done
  if [ "${#run[@]}" -eq 0 ]; then # compose would start every service
    echo "compose: none of ${services[*]} can run here; nothing started" >&2
    exit 1
  fi
  mkdir -p "${TORFLEET_STATE_DIR:-/var/lib/torfleet}"
  "${compose[@]}" up -d --no-build "${run[@]}"
  ;;
down)
  "${compose[@]}" down
  ;;
*)
  echo "usage: reconciler/deploy/compose.sh up [SERVICE...] | down" >&2
  exit 2
  ;;
esac
