import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from service import greet  # noqa: E402


class NamesTest(unittest.TestCase):
    def test_unicode_names(self):
        for name in ["Zoë", "Łukasz", "山田"]:
            with self.subTest(name=name):
                self.assertTrue(greet(name).endswith(name))
