"""Stands in for a slow test (an audit log write, about 0.15 s), so that the
README's four-way split has durations to balance."""

import time
import unittest


class AuditTest(unittest.TestCase):
    def test_audit(self):
        time.sleep(0.15)
