#!/usr/bin/env bash
# The README's walkthrough, unattended: three services packaged together,
# refused while evidence and approvals are missing, then promoted in
# dependency order to compliant, and the evidence chain exported and
# verified offline.
#
#   examples/services/walkthrough.sh [WORKDIR]
#
# GANTRY names the gantry binary (default: `gantry` on PATH). The example
# is copied into WORKDIR (default: a new temporary folder), which also
# holds $GANTRY_HOME, so the repository is never written to.
set -euo pipefail

gantry=${GANTRY:-gantry}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cp -R "$here/." "$work/example"
cd "$work/example"
export GANTRY_HOME="$work/home"
export GANTRY_ACTOR=release-bot

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

step "Keys: CI signs evidence; alice, bob and carol approve; mallory is nobody"
mkdir -p .gantry/keys
for who in ci alice bob carol mallory; do
  "$gantry" key generate --out ".gantry/keys/$who" >/dev/null
done

step "The catalog and the promotion order"
"$gantry" services

step "A package of all three services at 1.4.0"
"$gantry" package create --version 1.4.0 service-a service-b service-c --format json >package.json
id=$(sed -n 's/^    "id": "\([0-9a-f]*\)".*/\1/p' package.json | head -n 1)
[ -n "$id" ] || { echo "walkthrough: no package id in package.json" >&2; exit 1; }
"$gantry" package show "$id"

step "Promote to compliance_ready: refused, every missing piece named"
expect 1 "$gantry" promote "$id"

step "Evidence, made by gantry and signed by CI, recorded per service"
"$gantry" db import advisories >/dev/null
for service in service-c service-b service-a; do
  "$gantry" sbom "$service" -o "$service.cdx.json"
  "$gantry" attest -t cyclonedx -p "$service.cdx.json" -s "$service/requirements.txt" \
    -k .gantry/keys/ci.key -o "$service.sbom.intoto.json"
  "$gantry" scan "$service" --format json >"$service.vulns.json"
  "$gantry" attest -t vulns -p "$service.vulns.json" -s "$service/requirements.txt" \
    -k .gantry/keys/ci.key -o "$service.vulns.intoto.json"
  "$gantry" audit . --format json >"$service.audit.json"
  "$gantry" attest -t audit -p "$service.audit.json" -s .github/workflows/release.yml \
    -k .gantry/keys/ci.key -o "$service.audit.intoto.json"
  "$gantry" attest -t test-result -p "$service/test-results/junit.xml" -s "$service" \
    -k .gantry/keys/ci.key -o "$service.tests.intoto.json"
  for kind in sbom vulns audit tests; do
    "$gantry" ledger append "$service.$kind.intoto.json" \
      --service "$service" --service-version 1.4.0 >/dev/null
  done
done

step "A test result signed by an untrusted key does not count"
"$gantry" attest -t test-result -p service-c/test-results/junit.xml -s service-c \
  -k .gantry/keys/mallory.key -o forged.intoto.json
"$gantry" ledger append forged.intoto.json --service service-c --service-version 1.4.0 >/dev/null

step "Promote to compliance_ready: every gate passes, in dependency order"
"$gantry" promote "$id"

step "Promote to compliant: provenance and approvals are still missing"
expect 1 "$gantry" promote "$id" --to compliant

step "Build the release archives and sign their provenance"
for service in service-c service-b service-a; do
  tar --sort=name --mtime=@0 --owner=0 --group=0 -czf "$service.tar.gz" "$service"
  "$gantry" attest -t slsa-provenance -s "$service.tar.gz" -k .gantry/keys/ci.key \
    --workflow .github/workflows/release.yml --input "service=$service" --ref main \
    -o "$service.provenance.intoto.json"
  "$gantry" ledger append "$service.provenance.intoto.json" \
    --service "$service" --service-version 1.4.0 >/dev/null
done

step "A package that ships the archives (a new id: its content changed)"
"$gantry" package create --version 1.4.0 service-a service-b service-c \
  --artifact service-a=service-a.tar.gz --artifact service-b=service-b.tar.gz \
  --artifact service-c=service-c.tar.gz --as alice \
  --format json >release.json
release=$(sed -n 's/^    "id": "\([0-9a-f]*\)".*/\1/p' release.json | head -n 1)
[ -n "$release" ] || { echo "walkthrough: no package id in release.json" >&2; exit 1; }
"$gantry" promote "$release" --to compliance_ready

step "Approvals: alice made the package and may not approve it; a wrong key or a second approval by bob is refused"
expect 2 "$gantry" approve "$release" --as alice --key .gantry/keys/alice.key
expect 2 "$gantry" approve "$release" --as carol --key .gantry/keys/mallory.key
"$gantry" approve "$release" --as bob --key .gantry/keys/bob.key --comment "reviewed the SBOM diff"
expect 1 "$gantry" promote "$release" --to compliant --dry-run
expect 2 "$gantry" approve "$release" --as bob --key .gantry/keys/bob.key
"$gantry" approve "$release" --as carol --key .gantry/keys/carol.key

step "Promote to compliant"
"$gantry" promote "$release" --to compliant --format json >promotion.json
grep -q '"decision": "promoted"' promotion.json
"$gantry" promote "$release" --to compliant
"$gantry" services
"$gantry" promotions

step "The evidence chain, exported for an auditor and verified offline"
"$gantry" ledger verify
"$gantry" ledger export --service service-a --out audit/service-a >/dev/null
ls audit/service-a/promotions/*/
"$gantry" ledger verify --export audit/service-a

printf '\nwalkthrough: done (%s)\n' "$work"
