#!/bin/sh
# The voxhub image's entrypoint: `serve` by default, any voxhub command, or another program as given.
#   docker run IMAGE                      -> voxhub serve (on 0.0.0.0, data in /data)
#   docker run IMAGE --port 9000          -> voxhub serve --port 9000
#   docker run IMAGE models list          -> voxhub models list
#   docker run IMAGE healthcheck          -> exit 0 when /health/ready answers 200 (the image's HEALTHCHECK)
#   docker run IMAGE sh                   -> a shell
set -eu

: "${VOXHUB_HOST:=0.0.0.0}"        # a container is reached through its published ports
: "${VOXHUB_DATA_DIR:=/data}"      # the volume: history, memory, certificates
export VOXHUB_HOST VOXHUB_DATA_DIR
VOXHUB="${VOXHUB_BIN:-voxhub}"

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    set -- serve "$@"
fi

case "$1" in
healthcheck)
    exec python3 - <<'PY'
import os, ssl, sys, urllib.request
scheme = "https" if os.environ.get("VOXHUB_SSL_CERTFILE") else "http"
url = f"{scheme}://127.0.0.1:{os.environ.get('VOXHUB_PORT', '8129')}/health/ready"
try:
    with urllib.request.urlopen(url, timeout=5, context=ssl._create_unverified_context()) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except Exception as error:
    print(f"not ready: {error}", file=sys.stderr)
    sys.exit(1)
PY
    ;;
serve)
    if ! mkdir -p "$VOXHUB_DATA_DIR" 2>/dev/null || [ ! -w "$VOXHUB_DATA_DIR" ]; then
        echo "voxhub: the data directory $VOXHUB_DATA_DIR is not writable by uid $(id -u);" \
            "give the volume to that user (chown $(id -u) on the host) or run with --user" >&2
        exit 2
    fi
    exec "$VOXHUB" "$@"
    ;;
voxhub)
    shift
    exec "$VOXHUB" "$@"
    ;;
esac

if command -v "$1" >/dev/null 2>&1; then
    exec "$@"
fi
exec "$VOXHUB" "$@"
