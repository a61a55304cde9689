"""Applies the schema migrations of this checkout to an environment's
database (a JSON file standing in for one) before its release.

    python3 deploy/migrate.py DEPLOY_ROOT ENVIRONMENT
"""

import json
import pathlib
import sys

MIGRATIONS = ["0001_create_greetings", "0002_add_locale"]


def main() -> None:
    root, environment = sys.argv[1:3]
    db = pathlib.Path(root) / environment / "schema.json"
    db.parent.mkdir(parents=True, exist_ok=True)
    applied = json.loads(db.read_text()) if db.exists() else []
    for m in MIGRATIONS:
        if m not in applied:
            applied.append(m)
            print(f"{environment}: applied {m}")
    db.write_text(json.dumps(applied) + "\n")
    print(f"{environment}: schema at {applied[-1]}")


if __name__ == "__main__":
    main()
