#!/usr/bin/env bash
# A plain sequential grader, written the obvious way: the baseline `bench/grade_time.py`
# compares `autograde grade` with.
#
#     bench/naive_grade.sh CHECKOUT PORT [PROJECT]
#
# build dev, `up --build -d` prod, a fixed `sleep 10`, two curls, `docker images`, `down`.
# (It does less than the grader: no restart, no Redis check, no look inside the image.)
#
# Only departures from the obvious way, so that it can run next to other people on a shared
# engine: a unique project name, and a small override file that gives the built images
# unique tags (the lab's files name them docker-cd-lab04-web-{dev,prod}), publishes web_prod
# on PORT instead of 5005 and does not publish Redis' 6383. After `down` it removes the two
# images it built (by those tags only; `down --rmi all` would also remove redis:alpine).
set -u

dir=${1:?usage: naive_grade.sh CHECKOUT PORT [PROJECT]}
port=${2:?usage: naive_grade.sh CHECKOUT PORT [PROJECT]}
project=${3:-naive$$$RANDOM}
dev_tag="$project-web-dev:naive"
prod_tag="$project-web-prod:naive"

cd "$dir" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/dev.yml" <<EOF
services:
  web_dev:
    image: "$dev_tag"
EOF
cat >"$tmp/prod.yml" <<EOF
services:
  web_prod:
    image: "$prod_tag"
    ports: !override
      - "127.0.0.1:$port:5000"
  redis_prod:
    ports: !reset []
EOF
dev=(docker compose -p "$project" -f docker-compose.yml -f "$tmp/dev.yml")
prod=(docker compose -p "$project" -f docker-compose.prod.yml -f "$tmp/prod.yml")

status=0
"${dev[@]}" build web_dev || status=1
"${prod[@]}" up --build -d || status=1
sleep 10
curl -fsS "http://127.0.0.1:$port/" || status=1
echo
curl -fsS "http://127.0.0.1:$port/" || status=1
echo
docker images --filter "reference=$project-*"
"${prod[@]}" down -v
docker image rm "$dev_tag" "$prod_tag" >/dev/null || status=1
exit $status
