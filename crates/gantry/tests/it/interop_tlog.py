#!/usr/bin/env python3
"""An independent check of gantry's evidence exports and ledger proofs.

Written from the specifications alone, sharing no code with gantry:
RFC 9162 (leaf and node hashes, section 2.1.1; inclusion proofs, 2.1.3.2;
consistency proofs, 2.1.4.2), c2sp.org/signed-note (Ed25519 note
signatures and verifier keys), c2sp.org/tlog-checkpoint and
c2sp.org/tlog-proof. Ed25519 comes from the `cryptography` package.

Usage:
  interop_tlog.py export DIR [LOG_KEY]
      Checks every file of a `gantry ledger export` folder against
      manifest.json, the checkpoint's signature, and every entry's
      inclusion proof. LOG_KEY (a verifier key file) defaults to
      DIR/ledger/log.pub.
  interop_tlog.py consistency PROOF.json
      Checks the output of `gantry ledger prove --from OLD --format json`.
  interop_tlog.py vectors DIR
      Runs this verifier itself over the transparency-dev/merkle test
      vectors in DIR (inclusion/ and consistency/), so that its verdicts
      can be trusted.

Exit 0 when everything checks out, 1 (with the reason on stderr) when
anything does not, missing or unparsable files included; 2 for bad usage.
"""

import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Reject(Exception):
    """The evidence does not check out."""


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def lsb(n):
    return n & 1 == 1


def check_hashes(*hashes):
    for h in hashes:
        if len(h) != 32:
            raise Reject(f"a hash of {len(h)} bytes, not 32")


def root_from_inclusion(index, size, leaf, path):
    """RFC 9162, 2.1.3.2: the root an inclusion proof leads to."""
    check_hashes(leaf, *path)
    if index >= size:
        raise Reject(f"index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Reject("the inclusion proof is longer than the tree is deep")
        if lsb(fn) or fn == sn:
            r = node_hash(p, r)
            if not lsb(fn):
                while not lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Reject("the inclusion proof is shorter than the tree is deep")
    return r


def check_consistency(first, second, first_hash, second_hash, path):
    """RFC 9162, 2.1.4.2."""
    check_hashes(*path)
    if first > second:
        raise Reject(f"old size {first} is larger than new size {second}")
    if first == 0:
        # Every tree extends the empty one: such a proof proves nothing, and
        # RFC 9162 defines none.
        raise Reject("a consistency proof from the empty tree proves nothing")
    if first == second:
        if path or first_hash != second_hash:
            raise Reject("equal sizes need an empty proof and equal roots")
        return
    if not path:
        raise Reject("the consistency proof is empty")
    if first & (first - 1) == 0:
        path = [first_hash] + list(path)
    fn, sn = first - 1, second - 1
    while lsb(fn):
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Reject("the consistency proof is too long")
        if lsb(fn) or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not lsb(fn):
                while not lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Reject("the consistency proof is too short")
    if fr != first_hash:
        raise Reject("the proof does not lead to the old root")
    if sr != second_hash:
        raise Reject("the proof does not lead to the new root")


def parse_verifier_key(text):
    """c2sp.org/signed-note: name+hash+base64(0x01 || Ed25519 key)."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise Reject("the verifier key is not name+hash+key")
    name, key_hash, blob = parts
    raw = base64.b64decode(blob, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise Reject("the verifier key is not an Ed25519 key")
    expected = sha256(name.encode() + b"\n" + raw)[:4].hex()
    if key_hash != expected:
        raise Reject("the verifier key's hash does not match its name and key")
    return name, bytes.fromhex(key_hash), Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(note, key):
    """Checks a signed note; returns its text lines."""
    name, key_hash, public = key
    split = note.rfind("\n\n")
    if split < 0:
        raise Reject("the note has no signature block")
    text, signatures = note[: split + 1], note[split + 2 :]
    signed = False
    for line in signatures.split("\n"):
        if not line:
            continue
        if not line.startswith("\u2014 "):
            raise Reject(f"malformed signature line: {line!r}")
        who, _, blob = line[2:].rpartition(" ")
        raw = base64.b64decode(blob, validate=True)
        if who != name or raw[:4] != key_hash:
            continue
        try:
            public.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise Reject("the note's signature does not verify") from None
        signed = True
    if not signed:
        raise Reject(f"the note is not signed by {name}")
    return text.split("\n")[:-1]


def open_checkpoint(note, key):
    """c2sp.org/tlog-checkpoint: origin, size, base64 root, extensions."""
    lines = open_note(note, key)
    if len(lines) < 3:
        raise Reject("the checkpoint has fewer than three lines")
    if lines[0] != key[0]:
        raise Reject(f"the checkpoint's origin {lines[0]!r} is not the key's name")
    if not lines[1].isdigit():
        raise Reject("the checkpoint's size is not a number")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise Reject("the checkpoint's root is not 32 bytes")
    return int(lines[1]), root


def parse_tlog_proof(text):
    """c2sp.org/tlog-proof@v1: index, hashes, blank line, checkpoint."""
    lines = text.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise Reject("not a c2sp.org/tlog-proof@v1 file")
    i = 1
    if lines[i].startswith("extra "):
        i += 1
    if not lines[i].startswith("index ") or not lines[i][6:].isdigit():
        raise Reject("the proof has no index line")
    index = int(lines[i][6:])
    i += 1
    hashes = []
    while lines[i] != "":
        h = base64.b64decode(lines[i], validate=True)
        if len(h) != 32:
            raise Reject("a proof hash is not 32 bytes")
        hashes.append(h)
        i += 1
    return index, hashes, "\n".join(lines[i + 1 :])


def check_export(folder, key_path):
    key = parse_verifier_key(read(key_path).decode())
    manifest = json.loads(read(os.path.join(folder, "manifest.json")))
    for rel, digest in manifest["files"].items():
        if hashlib.sha256(read(os.path.join(folder, rel))).hexdigest() != digest:
            raise Reject(f"{rel} does not match its digest in manifest.json")
    size, root = open_checkpoint(read(os.path.join(folder, "ledger", "checkpoint")).decode(), key)
    if size != manifest["treeSize"] or root.hex() != manifest["rootHash"]:
        raise Reject("manifest.json names another tree than the checkpoint")
    for e in manifest["entries"]:
        entry = read(os.path.join(folder, e["entry"]))
        leaf = leaf_hash(entry)
        if leaf.hex() != e["leafHash"]:
            raise Reject(f"{e['entry']}: its leaf hash is not the manifest's")
        envelope = json.loads(read(os.path.join(folder, e["envelope"])))
        if json.loads(entry)["envelope"] != envelope:
            raise Reject(f"{e['envelope']} is not the envelope in {e['entry']}")
        index, path, note = parse_tlog_proof(read(os.path.join(folder, e["proof"])).decode())
        if index != e["index"]:
            raise Reject(f"{e['proof']} proves entry {index}, not {e['index']}")
        p_size, p_root = open_checkpoint(note, key)
        if root_from_inclusion(index, p_size, leaf, path) != p_root:
            raise Reject(f"{e['proof']}: the inclusion proof does not lead to the checkpoint's root")
        if (p_size, p_root) != (size, root):
            raise Reject(f"{e['proof']} leads to another checkpoint than ledger/checkpoint")
    return len(manifest["entries"]), size


def check_consistency_file(path):
    p = json.loads(read(path))
    decode = lambda s: base64.b64decode(s, validate=True)
    check_consistency(
        p["old_size"], p["new_size"], decode(p["old_root"]), decode(p["new_root"]),
        [decode(h) for h in p["proof"]],
    )


def check_vectors(folder):
    """Accepts each vector with wantErr false, rejects each with it true."""
    decode = lambda s: base64.b64decode(s or "", validate=True)
    count = 0
    for kind in ("inclusion", "consistency"):
        for dirpath, _, names in os.walk(os.path.join(folder, kind)):
            for name in sorted(names):
                v = json.loads(read(os.path.join(dirpath, name)))
                proof = [decode(h) for h in v.get("proof") or []]
                try:
                    if kind == "inclusion":
                        root = root_from_inclusion(
                            v["leafIdx"], v["treeSize"], decode(v["leafHash"]), proof
                        )
                        check_hashes(decode(v["root"]))
                        if root != decode(v["root"]):
                            raise Reject("wrong root")
                    else:
                        check_consistency(
                            v["size1"], v["size2"], decode(v["root1"]), decode(v["root2"]), proof
                        )
                    accepted = True
                except Reject:
                    accepted = False
                if accepted == v["wantErr"]:
                    raise Reject(f"{kind}/{os.path.relpath(os.path.join(dirpath, name), os.path.join(folder, kind))}: "
                                 f"{'accepted' if accepted else 'rejected'} ({v.get('desc', '')})")
                count += 1
    if count == 0:
        raise Reject(f"no vectors under {folder}")
    return count


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main(argv):
    try:
        if len(argv) >= 2 and argv[0] == "export":
            key = argv[2] if len(argv) > 2 else os.path.join(argv[1], "ledger", "log.pub")
            n, size = check_export(argv[1], key)
            print(f"ok: {n} entries proven in the signed tree of size {size}")
        elif len(argv) == 2 and argv[0] == "vectors":
            print(f"ok: {check_vectors(argv[1])} vectors")
        elif len(argv) == 2 and argv[0] == "consistency":
            check_consistency_file(argv[1])
            print("ok: consistent")
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Reject as e:
        print(f"rejected: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        # Bytes that do not even parse: tampering, reported as a rejection.
        print(f"rejected: unreadable evidence: {e!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
