import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from service import greet  # noqa: E402


class GreetTest(unittest.TestCase):
    def test_greets_by_name(self):
        self.assertEqual(greet("ops"), "hello, ops")

    def test_greeting_is_stable(self):
        # Fails on the Python versions listed in EXAMPLE_FLAKE (unset in
        # normal runs): the README uses it to show a flaky test.
        flaky_on = os.environ.get("EXAMPLE_FLAKE", "").split(",")
        here = os.environ.get("PYTHON_VERSION", "")
        self.assertFalse(here and here in flaky_on, f"greeting changed on Python {here}")
        self.assertEqual(greet("ops"), greet("ops"))


if __name__ == "__main__":
    unittest.main()
