import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from service import greet  # noqa: E402


class FormatTest(unittest.TestCase):
    def test_keeps_the_name_as_given(self):
        self.assertEqual(greet("Ops Team"), "hello, Ops Team")

    def test_greets_an_empty_name(self):
        self.assertEqual(greet(""), "hello, ")
