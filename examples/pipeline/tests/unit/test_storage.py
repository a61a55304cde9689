"""Stands in for a slow test (a database round trip, about 0.40 s), so that the
README's four-way split has durations to balance."""

import time
import unittest


class StorageTest(unittest.TestCase):
    def test_storage(self):
        time.sleep(0.40)
