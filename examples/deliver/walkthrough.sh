#!/usr/bin/env bash
# The README's walkthrough, unattended: staging deploys from main,
# production refuses a branch, waits for a reviewer and deploys a tag, a
# release whose health check fails is rolled back by itself, and every
# event reaches the webhook receiver once.
#
#   examples/deliver/walkthrough.sh [WORKDIR]
#
# GANTRY names the gantry binary (default: `gantry` on PATH). The example
# is copied into WORKDIR (default: a new temporary folder), which also holds
# $GANTRY_HOME and the deployed releases, so the repository is never
# written to. Ports are picked free unless STAGING_PORT, PRODUCTION_PORT and
# RECEIVER_PORT say otherwise.
set -euo pipefail

gantry=${GANTRY:-gantry}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
rm -rf "$work/example" "$work/deploy"
cp -R "$here/." "$work/example"
cd "$work/example"
export GANTRY_HOME="$work/home"
export GANTRY_ACTOR=release-bot
deploy_root="$work/deploy"
mkdir -p "$deploy_root"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Runs a command that must exit with the given status.
expect() {
  local want=$1
  shift
  set +e
  "$@"
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "walkthrough: \`$*\` exited $got, expected $want" >&2
    exit 1
  fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
get() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' "$1"; }

staging_port=${STAGING_PORT:-$(free_port)}
production_port=${PRODUCTION_PORT:-$(free_port)}
receiver_port=${RECEIVER_PORT:-$(free_port)}
router_port=$(free_port)
canary_port=$(free_port)
sed -i "s/18081/$staging_port/g; s/18082/$production_port/g; s/18099/$receiver_port/g" .gantry/environments.yml
sed -i "s/18090/$router_port/g; s/18081/$staging_port/g; s/18083/$canary_port/g; s/18099/$receiver_port/g" .gantry/rollouts/web.yml

step "A supervisor that starts what a deployment releases, and a webhook receiver"
python3 app/supervisor.py "$deploy_root" >"$work/supervisor.log" 2>&1 &
supervisor=$!
python3 app/receiver.py --port "$receiver_port" --out "$work/events.jsonl" &
receiver=$!
waiting=""
cleanup() {
  [ -n "$waiting" ] && kill "$waiting" 2>/dev/null || true
  kill "$supervisor" "$receiver" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

step "The repository: alice reviews production deployments"
mkdir -p .gantry/keys
"$gantry" key generate --out .gantry/keys/alice >/dev/null
git init -q -b main
git add -A
git -c user.name=dev -c user.email=dev@example.com commit -qm "service 1.0.0"
run() { "$gantry" run --var "DEPLOY_ROOT=$deploy_root" "$@"; }

step "main deploys to staging: migrations, release, smoke test, health check"
run --ref refs/heads/main
[ "$(get "http://127.0.0.1:$staging_port/")" = "hello from 1.0.0" ]

step "production refuses a branch"
expect 1 run --event workflow_dispatch --ref refs/heads/main --input environment=production

step "A tag waits for alice's approval, then deploys to production"
git tag v1.0.0
run --ref refs/tags/v1.0.0 --approval-timeout 2m >"$work/tag.log" 2>&1 &
waiting=$!
for _ in $(seq 1 300); do
  grep -q "gantry approve --run" "$work/tag.log" && break
  sleep 0.1
done
approve=$(grep -o "gantry approve --run [0-9]* --environment production" "$work/tag.log" | head -n 1)
[ -n "$approve" ] || { cat "$work/tag.log"; echo "walkthrough: the run is not waiting for an approval" >&2; exit 1; }
echo "the run says: $approve --as WHO --key KEY"
run_id=$(echo "$approve" | awk '{print $4}')
"$gantry" approve --run "$run_id" --environment production --as alice --key .gantry/keys/alice.key
wait "$waiting"
waiting=""
cat "$work/tag.log" | grep -E "waiting|approved|deploy\]" | tail -n 5 || true
[ "$(get "http://127.0.0.1:$production_port/")" = "hello from 1.0.0" ]

step "A release whose health check fails is rolled back by itself"
echo 1.1.0 >VERSION
touch UNHEALTHY
git add -A
git -c user.name=dev -c user.email=dev@example.com commit -qm "service 1.1.0 (unhealthy)"
expect 1 run --ref refs/heads/main
[ "$(get "http://127.0.0.1:$staging_port/")" = "hello from 1.0.0" ]

# Starts version $1 of the service as the canary, failing every $2th
# request when $2 is not 0, and waits until it answers.
canary() {
  local release="$deploy_root/canary/releases/$1-$2"
  rm -rf "$release"
  mkdir -p "$release"
  cp -R app "$release/app"
  echo "$1" >"$release/VERSION"
  local args=""
  [ "$2" != 0 ] && args=" --fail-every $2"
  mkdir -p "$deploy_root/canary"
  echo "$release $canary_port$args" >"$deploy_root/canary/current"
  for _ in $(seq 1 100); do
    [ "$(get "http://127.0.0.1:$canary_port/healthz" 2>/dev/null)" = ok ] &&
      [ "$(get "http://127.0.0.1:$canary_port/" 2>/dev/null || true)" != "" ] && return 0
    sleep 0.1
  done
  echo "walkthrough: the canary did not start" >&2
  exit 1
}
# Runs the rollout with steady load through the router for $2 (less than
# the rollout takes, so that every request is sent while it runs); $1 is
# the exit status the rollout must end with. No request may go unanswered:
# the only errors allowed are the canary's own 500s.
rollout() {
  local want=$1 load_for=$2
  # Bounded: a rollout that paused for want of samples would wait for a
  # promote that nobody sends.
  timeout 120 "$gantry" rollout run web >"$work/rollout.log" 2>&1 &
  local rolling=$!
  for _ in $(seq 1 100); do
    grep -q "router listening" "$work/rollout.log" && break
    sleep 0.1
  done
  "$gantry" load "http://127.0.0.1:$router_port/" --rate 400/s --duration "$load_for" \
    --format json >"$work/load.json" &
  local loading=$!
  set +e
  wait "$loading"
  wait "$rolling"
  local got=$?
  set -e
  cat "$work/rollout.log"
  python3 - "$work/load.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
e = r["errors"]
print(f'load: {r["requests"]} requests at {r["rate"]:.0f}/s, {e["status_5xx"]} answered 500 by the canary, '
      f'{e["connect"] + e["timeout"] + e["io"]} unanswered')
if e["connect"] + e["timeout"] + e["io"]:
    sys.exit("walkthrough: requests went unanswered during the rollout")
PY
  if [ "$got" != "$want" ]; then
    echo "walkthrough: the rollout exited $got, expected $want" >&2
    exit 1
  fi
}

step "A good canary (1.1.0) reaches all traffic through 10% and 50%"
canary 1.1.0 0
rollout 0 3600ms
"$gantry" rollout status web

step "A bad canary (1.2.0 fails one request in five) is rolled back within one interval"
canary 1.2.0 5
rollout 1 800ms
"$gantry" rollout status web

step "The deployments, and the events the receiver got (each once)"
"$gantry" deployments
python3 - "$work/events.jsonl" <<'PY'
import collections, json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
for e in events:
    body = json.loads(e["body"])
    print(f'{e["path"]:<12} {body["status"]:<12} {body["summary"]}')
keys = collections.Counter(e["idempotency_key"] for e in events)
repeated = [k for k, n in keys.items() if n > 1]
if repeated:
    sys.exit(f"walkthrough: events delivered more than once: {repeated}")
PY
"$gantry" ledger verify
# What an auditor gets: web's evidence, every entry with its proof.
"$gantry" ledger export --service web --out "$work/audit-web"
"$gantry" ledger verify --export "$work/audit-web"
echo "walkthrough: done"
