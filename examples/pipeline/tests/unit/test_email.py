"""Stands in for a slow test (a mail relay call, about 0.15 s), so that the
README's four-way split has durations to balance."""

import time
import unittest


class EmailTest(unittest.TestCase):
    def test_email(self):
        time.sleep(0.15)
