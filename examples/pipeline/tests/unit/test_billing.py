"""Stands in for a slow test (a payment sandbox call, about 0.35 s), so that the
README's four-way split has durations to balance."""

import time
import unittest


class BillingTest(unittest.TestCase):
    def test_billing(self):
        time.sleep(0.35)
