#!/bin/sh
# The image's entrypoint. It runs as root for one reason: a Fly volume (or any
# mounted folder) at DATA_DIR arrives owned by root, and the call store must
# write there. It hands that folder to the unprivileged `node` user, then runs
# the CMD as `node` (exec: SIGTERM still reaches node, so calls drain).
set -eu
if [ -n "${DATA_DIR:-}" ]; then
  mkdir -p "$DATA_DIR"
  chown node:node "$DATA_DIR"
fi
exec setpriv --reuid=node --regid=node --init-groups -- "$@"
