#!/bin/sh
set -e

# say where the app will look for Redis, then hand PID 1 over to the command (CMD)
echo "docker-entrypoint.sh: REDIS_HOST=${REDIS_HOST:-localhost}"
exec "$@"
