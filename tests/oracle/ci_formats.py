"""Reads migfix's CI formats with real consumers, for the test suite.

    ci_formats.py sarif SCHEMA FILE   validate FILE against the SARIF 2.1.0
                                      JSON schema; print every violation
    ci_formats.py junit FILE          parse FILE with junitparser; print what
                                      it read as JSON

Exit status: 0 valid, 1 invalid, 2 bad usage.
"""
import json
import sys


def sarif(schema_path, path):
    import jsonschema

    schema = json.load(open(schema_path, encoding="utf-8"))
    doc = json.load(open(path, encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        print(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}")
    return 1 if errors else 0


def junit(path):
    from junitparser import JUnitXml

    xml = JUnitXml.fromfile(path)
    suites = []
    for suite in xml:
        cases = []
        for case in suite:
            cases.append({
                "name": case.name,
                "classname": case.classname,
                "results": [
                    {"kind": type(r).__name__, "type": r.type, "message": r.message, "text": r.text}
                    for r in case.result
                ],
                "system_out": case.system_out,
            })
        suites.append({
            "name": suite.name,
            "tests": suite.tests,
            "failures": suite.failures,
            "errors": suite.errors,
            "cases": cases,
        })
    print(json.dumps({"suites": suites}, indent=1))
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "sarif":
        sys.exit(sarif(args[1], args[2]))
    if len(args) == 2 and args[0] == "junit":
        sys.exit(junit(args[1]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
