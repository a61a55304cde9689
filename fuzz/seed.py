#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora to fuzz/corpus/<target>/.

Seeds come from the repository's test fixtures and ../shared/testdata (read
in place, never copied into the repository), plus a few made here (keys by
openssl when it is installed, a zip export, envelopes, statements, proofs).
The corpus folders are not committed: libFuzzer grows them as it runs.

    python3 fuzz/seed.py            # from the workspace root
"""

import base64
import hashlib
import io
import json
import os
import pathlib
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
CORPUS = FUZZ / "corpus"
SHARED = ROOT.parent / "shared" / "testdata"
MAX_SEED = 64 * 1024


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def files(folder, pattern="*", limit=None):
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        return []
    found = sorted(p for p in folder.rglob(pattern) if p.is_file())
    return found[:limit] if limit else found


def seed_lockfiles():
    names = {
        "lockfile_cargo": ["Cargo.lock"],
        "lockfile_npm": ["package-lock.json", "npm-shrinkwrap.json"],
        "lockfile_yarn": ["yarn.lock"],
        "lockfile_pnpm": ["pnpm-lock.yaml"],
        "lockfile_requirements": ["requirements*.txt"],
        "lockfile_poetry": ["poetry.lock"],
        "lockfile_pipfile": ["Pipfile.lock"],
        "lockfile_uv": ["uv.lock"],
        "lockfile_gomod": ["go.mod"],
        "lockfile_gemfile": ["Gemfile.lock"],
        "lockfile_composer": ["composer.lock"],
        "lockfile_nuget": ["packages.lock.json"],
        "lockfile_gradle": ["*.lockfile"],
        "lockfile_pom": ["pom.xml"],
    }
    fixtures = ROOT / "crates" / "gantry-sbom" / "tests" / "fixtures"
    for target, patterns in names.items():
        for pattern in patterns:
            for i, p in enumerate(files(fixtures, pattern)):
                put(target, f"{p.parent.name}-{i}", p.read_bytes())
        put(target, "empty", b"")


def seed_workflows():
    parser = SHARED / "github-actions" / "workflow-parser" / "testdata"
    for i, p in enumerate(files(parser, "*.yml", 400)):
        docs = p.read_text(errors="replace").split("\n---\n")
        for j, doc in enumerate(docs[1:3]):
            if "jobs:" in doc or "runs:" in doc or "on:" in doc:
                put("workflow", f"{i}-{j}", doc)
    for p in files(ROOT / "examples", "*.yml"):
        put("workflow", "example-" + p.name, p.read_bytes())
    for p in files(ROOT / "crates" / "gantry-audit" / "tests" / "fixtures", "*.yml"):
        kind = "action" if p.name == "action.yml" else "workflow"
        put(kind, f"{p.parent.name}-{p.name}", p.read_bytes())
    for p in files(ROOT / "examples", "action.yml"):
        put("action", "example-" + p.parent.name, p.read_bytes())
    put("action", "composite", "name: x\ndescription: y\nruns:\n  using: composite\n"
        "  steps:\n    - run: echo ${{ inputs.a }}\n      shell: bash\n"
        "inputs:\n  a:\n    default: b\n")
    put("action", "node", "name: x\nruns:\n  using: node20\n  main: index.js\n  post: p.js\n")
    put("action", "docker", "name: x\nruns:\n  using: docker\n  image: Dockerfile\n"
        "  args: ['${{ inputs.a }}']\n")


def seed_expressions():
    folder = SHARED / "github-actions" / "expressions" / "testdata"
    n = 0
    for p in files(folder, "*.json"):
        try:
            doc = json.loads(p.read_text())
        except ValueError:
            continue
        for cases in doc.values() if isinstance(doc, dict) else []:
            for case in cases if isinstance(cases, list) else []:
                if isinstance(case, dict) and isinstance(case.get("expr"), str):
                    put("expression", f"{n}", case["expr"])
                    n += 1
                    if n >= 600:
                        return
    put("expression", "template", "a ${{ github.ref }} b ${{ format('{0}', 1) }}")


def seed_configs():
    put("audit_yml", "persona", "persona: pedantic\n")
    put("audit_yml", "rules", "rules:\n  unpinned-uses:\n    disable: true\n"
        "  excessive-timeout:\n    config:\n      max: 30\n")
    put("audit_yml", "empty", "")
    put("ignore_yml", "list", "ignore:\n  - id: GHSA-xxxx-yyyy-zzzz\n    reason: not used\n"
        "    expires: 2030-01-01\n  - id: RUSTSEC-2020-0001\n    reason: x\n"
        "    package: pkg:cargo/foo\n")
    put("ignore_yml", "empty", "")


def seed_promote():
    example = ROOT / "examples" / "services" / ".gantry"
    for p in files(example / "services", "*.yml"):
        put("promote_yml", p.stem, p.read_bytes())
    put("promote_yml", "promotion", (example / "promotion.yml").read_bytes())
    for p in files(example / "policies", "*.rego"):
        put("rego_policy", p.stem, p.read_bytes())
    put("rego_policy", "deny", "package fuzz\nimport rego.v1\n"
        "deny contains msg if { input.service.name == \"service-a\"; msg := \"no\" }\n")


def seed_sbom():
    gantry = ROOT / "target" / "debug" / "gantry"
    monorepo = ROOT / "crates" / "gantry-sbom" / "tests" / "fixtures" / "monorepo"
    if gantry.exists() and monorepo.is_dir():
        for fmt in ["cyclonedx", "spdx"]:
            try:
                out = subprocess.run(
                    [str(gantry), "sbom", str(monorepo), "--format", fmt],
                    capture_output=True, check=True, timeout=60).stdout
                put("sbom_read", fmt, out)
            except (subprocess.SubprocessError, OSError):
                pass
    put("sbom_read", "cdx", json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
            {"type": "library", "name": "serde", "version": "1.0.0",
             "purl": "pkg:cargo/serde@1.0.0",
             "components": [{"name": "x", "purl": "pkg:npm/%40a/b@1.2.3"}]},
            {"name": "left-pad", "purl": "pkg:npm/left-pad"}]}))
    put("sbom_read", "spdx", json.dumps({
        "spdxVersion": "SPDX-2.3", "packages": [
            {"name": "requests", "versionInfo": "2.0.0", "externalRefs": [
                {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                 "referenceLocator": "pkg:pypi/requests@2.0.0"}]}]}))


def osv_samples(limit):
    out = []
    for eco in ["crates.io", "PyPI", "Go", "npm", "RubyGems", "Packagist", "NuGet", "Maven"]:
        for p in files(SHARED / "osv" / eco, "*.json", 4):
            if p.stat().st_size <= 8 * 1024:
                out.append(p)
    return out[:limit]


def seed_osv():
    samples = osv_samples(32)
    for i, p in enumerate(samples):
        put("osv_record", f"json-{i}", b"\x00" + p.read_bytes())
    lines = b"\n".join(json.dumps(json.loads(p.read_text())).encode() for p in samples[:4])
    put("osv_record", "ndjson", b"\x01" + lines + b"\n")
    put("osv_record", "array", b"\x00[" + b",".join(p.read_bytes() for p in samples[:3]) + b"]")
    put("osv_record", "yaml", b"\x02id: X-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n"
        b"  - package: {ecosystem: PyPI, name: a}\n    ranges:\n      - type: ECOSYSTEM\n"
        b"        events: [{introduced: '0'}, {fixed: '1.0'}]\n")
    for n, method in [("deflate", zipfile.ZIP_DEFLATED), ("stored", zipfile.ZIP_STORED)]:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", method) as z:
            for p in samples[:3]:
                z.writestr(p.name, p.read_bytes())
            z.writestr("nested/ok.json", samples[0].read_bytes() if samples else b"{}")
        put("osv_zip", n, buf.getvalue())


def b64(data):
    return base64.b64encode(data).decode()


def statements():
    digest = {"sha256": hashlib.sha256(b"").hexdigest()}
    subject = [{"name": "dist/app.tar.gz", "digest": digest}]
    preds = {
        "https://slsa.dev/provenance/v1": {
            "buildDefinition": {"buildType": "https://gantry.dev/buildtypes/workflow-run/v1",
                                "externalParameters": {"workflow": "ci.yml"},
                                "resolvedDependencies": []},
            "runDetails": {"builder": {"id": "https://gantry.dev/builders/local/v1"},
                           "metadata": {"invocationId": "1"}}},
        "https://in-toto.io/attestation/test-result/v0.1": {
            "result": "PASSED", "configuration": [], "passedTests": ["a"],
            "warnedTests": [], "failedTests": []},
        "https://example.com/custom/v1": {"anything": [1, 2, 3]},
    }
    for i, (ptype, pred) in enumerate(preds.items()):
        yield i, json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": subject,
                             "predicateType": ptype, "predicate": pred}).encode()


def seed_attest():
    for i, st in statements():
        put("attestation", f"statement-{i}", bytes([i + 1 | 0x10]) + st)
        put("dsse_envelope", f"envelope-{i}", json.dumps({
            "payloadType": "application/vnd.in-toto+json", "payload": b64(st),
            "signatures": [{"keyid": "abc", "sig": b64(bytes(64))},
                           {"sig": b64(bytes(72))}]}))
    put("attestation", "subject-map", b"\x00{\"_type\":\"https://in-toto.io/Statement/v1\","
        b"\"subject\":[{\"name\":\"x\",\"digest\":{\"sha512\":\"00\",\"sha256\":\"zz\"}}],"
        b"\"predicateType\":\"x\",\"predicate\":{}}")
    put("junit", "basic", '<?xml version="1.0"?>\n<testsuites><testsuite name="s" tests="3">'
        '<testcase classname="a" name="ok"/><testcase name="bad"><failure message="m"/>'
        '</testcase><testcase name="skip"><skipped/></testcase>'
        '<testcase name="err"><error/></testcase></testsuite></testsuites>')
    put("junit", "single", '<testsuite name="s"><properties><property name="a" value="b"/>'
        '</properties><testcase name="t" time="0.1"/></testsuite>')
    put("test_report", "nextest", '<testsuites name="nextest-run">\n<testsuite name="c::it">\n'
        '<testcase name="flips" classname="c::it" time="0.3"><flakyFailure message="timed out"/>'
        '</testcase>\n<testcase name="broken" classname="c::it" time="1,234.5"><failure message="p">'
        '<![CDATA[trace]]></failure><rerunFailure message="p"/></testcase>\n</testsuite></testsuites>')
    put("test_report", "gotestsum", '<testsuites><testsuite name="pkg" file="a_test.go">\n'
        '<testcase classname="pkg" name="TestA" time="x"><failure>boom\nline 2</failure></testcase>\n'
        '<testcase classname="pkg" name="TestA" time="0.1"/></testsuite></testsuites>')
    put("test_report", "quarantine", 'quarantine:\n  - test: tests.e2e.*\n    reason: r\n'
        '    expires: 2027-01-31\n')


def seed_keys():
    put("keys", "garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    if subprocess.run(["which", "openssl"], capture_output=True).returncode != 0:
        return
    with tempfile.TemporaryDirectory() as tmp:
        t = pathlib.Path(tmp)

        def ossl(*args, stdin=None):
            return subprocess.run(["openssl", *args], capture_output=True, input=stdin,
                                  check=False).stdout

        for alg, gen in [("ed25519", ["-algorithm", "ed25519"]),
                         ("p256", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])]:
            key = ossl("genpkey", *gen)
            put("keys", f"{alg}-private", key)
            put("keys", f"{alg}-public", ossl("pkey", "-pubout", stdin=key))
            put("keys", f"{alg}-public-der", ossl("pkey", "-pubout", "-outform", "DER", stdin=key))
            put("keys", f"{alg}-scrypt", ossl(
                "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-scrypt", "-scrypt_N", "16",
                "-scrypt_r", "1", "-scrypt_p", "1", "-passout", "pass:fuzz", stdin=key))
            put("keys", f"{alg}-pbkdf2", ossl(
                "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", "1",
                "-passout", "pass:fuzz", stdin=key))


def seed_ledger():
    root = b64(hashlib.sha256(b"").digest())
    body = f"fuzz.example/log\n3\n{root}\n"
    put("checkpoint", "signed", b"\x01" + body.encode())
    put("checkpoint", "signed-ext", b"\x01" + (body + "ext line\n").encode())
    put("checkpoint", "note", b"\x00" + (body + "\n\u2014 fuzz.example/log AAAAAAAA\n").encode())
    put("checkpoint", "verifier", b"\x00fuzz.example/log+01234567+AW1jbWN1bWN1bWN1bWN1bWN1bWN1bWN1bWN1bWN1bWM=")
    proof = f"c2sp.org/tlog-proof@v1\nextra {b64(b'entry')}\nindex 1\n{root}\n{root}\n\n"
    put("tlog_proof", "signed", b"\x01" + (proof + body).encode())
    put("tlog_proof", "raw", b"\x00" + (proof + body + "\n\u2014 fuzz.example/log AAAA\n").encode())
    n = 0
    for p in files(SHARED / "merkle", "*.json", 300):
        try:
            case = json.loads(p.read_text())
        except ValueError:
            continue
        nums = [case.get(k, 0) for k in ["leafIdx", "treeSize", "size1", "size2", "start", "end"]]
        nums = [x for x in nums if isinstance(x, int)][:3]
        raw = b"".join(struct.pack("<Q", ((x << 1) | 1) & (2**64 - 1)) for x in nums + [0] * (3 - len(nums)))
        for h in case.get("proof", []) or []:
            try:
                raw += base64.b64decode(h)
            except ValueError:
                pass
        put("merkle_proofs", f"case-{n}", b"\x00" + raw)
        n += 1
    put("merkle_proofs", "real", b"\x01\x07\x03\x02\x10\x01")
    for i in range(6):
        put("ledger_files", f"file-{i}", bytes([i, 2, 3, 0, 1]))
        put("ledger_files", f"trunc-{i}", bytes([i, 1, 40, 0]))


def tar_bytes(members):
    """A tar of (path, bytes) members."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as t:
        for path, data in members:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def seed_images():
    """Small docker save and oci-archive tarballs with one package of each
    kind the catalogues read, and binaries for the inspector."""
    layer = tar_bytes([
        ("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
        ("var/lib/dpkg/status",
         b"Package: zlib1g\nStatus: install ok installed\nSource: zlib\n"
         b"Version: 1:1.2.13.dfsg-1\nArchitecture: amd64\n\n"),
        ("lib/apk/db/installed", b"P:musl\nV:1.2.4-r2\no:musl\nA:x86_64\n\n"),
        ("usr/lib/python3/site-packages/idna-3.4.dist-info/METADATA",
         b"Metadata-Version: 2.1\nName: idna\nVersion: 3.4\n"),
        ("app/node_modules/left-pad/package.json",
         b'{"name": "left-pad", "version": "1.3.0"}'),
        ("app/.wh.removed", b""),
    ])
    digest = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest}"]},
    }).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{
        "Config": f"{config_hex}.json", "RepoTags": ["fuzz:1"],
        "Layers": [f"{digest}/layer.tar"],
    }]).encode()
    put("image_archive", "docker-save", tar_bytes([
        (f"{digest}/layer.tar", layer),
        (f"{config_hex}.json", config),
        ("manifest.json", manifest),
    ]))
    oci_manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": f"sha256:{config_hex}", "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": f"sha256:{digest}", "size": len(layer)}],
    }).encode()
    manifest_hex = hashlib.sha256(oci_manifest).hexdigest()
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": f"sha256:{manifest_hex}", "size": len(oci_manifest),
                       "platform": {"os": "linux", "architecture": "amd64"}}],
    }).encode()
    put("image_archive", "oci-archive", tar_bytes([
        ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
        ("index.json", index),
        (f"blobs/sha256/{config_hex}", config),
        (f"blobs/sha256/{manifest_hex}", oci_manifest),
        (f"blobs/sha256/{digest}", layer),
    ]))
    put("image_archive", "empty-tar", tar_bytes([]))
    # The inspector reads ELF files: this machine's own small programs.
    for name in ["true", "echo"]:
        path = pathlib.Path("/bin") / name
        if path.is_file() and path.stat().st_size <= MAX_SEED:
            put("image_binary", name, path.read_bytes())
    put("image_binary", "elf-header", b"\x7fELF\x02\x01\x01" + bytes(57))


def main():
    os.chdir(ROOT)
    seed_lockfiles()
    seed_workflows()
    seed_expressions()
    seed_configs()
    seed_promote()
    seed_sbom()
    seed_osv()
    seed_attest()
    seed_keys()
    seed_ledger()
    seed_images()
    for d in sorted(CORPUS.iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
