#!/usr/bin/env python3
"""Checks a grader report folder with independent consumers: results.json
against a JSON Schema of Gradescope's format (jsonschema), and junit.xml
through junitparser, with the expected counts.

    validate_reports.py OUT --tests N --failures F --errors E [--score S]
"""
import argparse
import json
import pathlib
import sys

import jsonschema
from junitparser import Error, Failure, JUnitXml

HERE = pathlib.Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tests", type=int, required=True)
    ap.add_argument("--failures", type=int, required=True)
    ap.add_argument("--errors", type=int, default=0)
    ap.add_argument("--score", type=float)
    a = ap.parse_args()
    out = pathlib.Path(a.out)

    schema = json.loads((HERE / "gradescope-results.schema.json").read_text())
    results = json.loads((out / "results.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(results, schema, cls=jsonschema.Draft7Validator)
    assert len(results["tests"]) == a.tests, f"results.json has {len(results['tests'])} tests, expected {a.tests}"
    failed = sum(1 for t in results["tests"] if t["status"] == "failed")
    assert failed == a.failures + a.errors, f"results.json: {failed} failed tests, expected {a.failures + a.errors}"
    total = sum(t["score"] for t in results["tests"])
    assert abs(total - results["score"]) < 0.01, f"score {results['score']} is not the sum of the tests' {total}"
    if a.score is not None:
        assert abs(results["score"] - a.score) < 0.01, f"score {results['score']}, expected {a.score}"

    xml = JUnitXml.fromfile(str(out / "junit.xml"))
    cases = failures = errors = 0
    for suite in xml:
        for case in suite:
            cases += 1
            for r in case.result:
                if isinstance(r, Failure):
                    failures += 1
                    assert r.message, f"{case.name}: a failure without a message"
                elif isinstance(r, Error):
                    errors += 1
    assert cases == a.tests, f"junit.xml has {cases} testcases, expected {a.tests}"
    assert failures == a.failures, f"junit.xml has {failures} failures, expected {a.failures}"
    assert errors == a.errors, f"junit.xml has {errors} errors, expected {a.errors}"
    print(f"ok: {out}: {cases} tests, {failures} failures, {errors} errors, score {results['score']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
