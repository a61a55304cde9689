"""Verifies gantry's DSSE envelopes with securesystemslib, the reference
DSSE implementation on PyPI.

usage: interop_dsse.py ENVELOPE THRESHOLD KEYID=PUBKEY.pem...
Exit 0 when Envelope.verify accepts, 1 when it rejects, 2 on bad input.
"""

import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey


def main() -> int:
    envelope_path, threshold = sys.argv[1], int(sys.argv[2])
    keys = []
    for arg in sys.argv[3:]:
        keyid, path = arg.split("=", 1)
        with open(path, "rb") as f:
            keys.append(SSlibKey.from_crypto(load_pem_public_key(f.read()), keyid=keyid))
    with open(envelope_path, "rb") as f:
        envelope = Envelope.from_dict(json.load(f))
    try:
        accepted = envelope.verify(keys, threshold)
    except VerificationError as e:
        print(f"rejected: {e}")
        return 1
    print("accepted:", " ".join(sorted(accepted)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
