"""Runs a folder of unittest tests and writes a JUnit XML report, with the
standard library only (the shape pytest's --junitxml writes).

    python scripts/junit.py tests/unit --out reports/unit.xml

It exits 0 once the report is written, whatever the tests did: the
`gantry/test-report` step reads the report and decides the job, so a
quarantined test's failure can be a warning.
"""

import argparse
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path


class Recorder(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []
        self._started = 0.0

    def startTest(self, test):
        self._started = time.perf_counter()
        super().startTest(test)

    def _record(self, test, kind=None, message=None, detail=None):
        self.cases.append((test, time.perf_counter() - self._started, kind, message, detail))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", str(err[1]), self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", str(err[1]), self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    suite = unittest.defaultTestLoader.discover(args.folder)
    result = unittest.TextTestRunner(resultclass=Recorder, verbosity=2).run(suite)

    folder = args.folder.rstrip("/")
    root = ET.Element("testsuite", name=folder, tests=str(len(result.cases)))
    for test, seconds, kind, message, detail in result.cases:
        # test.id() is module.Class.method, the module relative to the folder.
        module, _, name = test.id().rpartition(".")
        module = module.rpartition(".")[0] or module
        case = ET.SubElement(
            root,
            "testcase",
            classname=folder.replace("/", ".") + "." + module,
            name=name,
            file=f"{folder}/{module.replace('.', '/')}.py",
            time=f"{seconds:.3f}",
        )
        if kind:
            child = ET.SubElement(case, kind, message=message or "")
            child.text = detail
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(args.out, encoding="utf-8", xml_declaration=True)
    print(f"wrote {args.out}: {len(result.cases)} tests")


if __name__ == "__main__":
    main()
