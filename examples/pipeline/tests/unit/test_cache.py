"""Stands in for a slow test (a cache warm-up, about 0.10 s), so that the
README's four-way split has durations to balance."""

import time
import unittest


class CacheTest(unittest.TestCase):
    def test_cache(self):
        time.sleep(0.10)
