"""Stands in for a slow test (an index rebuild, about 0.30 s), so that the
README's four-way split has durations to balance."""

import time
import unittest


class SearchTest(unittest.TestCase):
    def test_search(self):
        time.sleep(0.30)
