import subprocess
import sys
import unittest
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


class GreetIntegrationTest(unittest.TestCase):
    def test_service_runs_in_a_fresh_interpreter(self):
        out = subprocess.run(
            [sys.executable, "-c", "import service; print(service.greet('ci'))"],
            cwd=SRC,
            capture_output=True,
            text=True,
            check=True,
        )
        self.assertEqual(out.stdout.strip(), "hello, ci")


if __name__ == "__main__":
    unittest.main()
