"""Stands in for a slow test (a file export, about 0.25 s), so that the
README's four-way split has durations to balance."""

import time
import unittest


class ExportTest(unittest.TestCase):
    def test_export(self):
        time.sleep(0.25)
