"""Stands in for a slow test (a report render, about 0.20 s), so that the
README's four-way split has durations to balance."""

import time
import unittest


class ReportsTest(unittest.TestCase):
    def test_reports(self):
        time.sleep(0.20)
