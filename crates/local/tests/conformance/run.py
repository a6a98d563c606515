"""Conformance runner: re-enacts requests whose answers were recorded on real AWS and compares
the local runtime's answers with the recordings, structurally.

Each file in cases/ names where its facts come from (a public recording: repository, commit,
path) and holds cases. A case is a list of steps, each one boto3 call; a step with `expect`
(or `expect_error`) is compared with what AWS answered, as recorded. Every case runs in an
account of its own (its access key is a 12-digit account id), so cases never see each other.

Comparison (the recordings mask what is random, and so does this):
- dicts must have the same keys (a key missing or extra is a difference);
- lists the same length, element by element;
- scalars the same value and type, except:
  - a whole string `<label>` (a recording's placeholder) matches any scalar, and the same
    label must match the same value everywhere in the case;
  - a string containing placeholders matches as a pattern: its literal parts exactly, each
    `<label>` any text, and `111111111111` (the recordings' account) any 12 digits;
  - `timestamp` / `datetime` match a datetime (boto3 parses timestamps);
- bytes are compared in Python's repr (`b'...'`), as the recordings store them;
- `ResponseMetadata` is compared by `HTTPStatusCode` only, and only when expected.
An error answer is compared as boto3's `ClientError.response` (Error.Code, Error.Message,
any other top-level keys, and the status).

A case marked `differs: "why"` is a known difference: it must still differ (when it starts
to match, the mark has to go), and README lists it.

Case format (YAML; see cases/kinesis.yaml):
  source: {repo, commit, path}        where the recording is (a case may override any of them)
  cases:
    - name: kinesis_...               unique; says what behaviour it checks
      snapshot: "tests/...::test_x"   the recording's key in that file
      differs: "why"                  only for a known difference (README lists it)
      parameter_validation: false     let boto3 send what it would refuse itself
      vars: {k: v}                    extra {{variables}}
      steps:
        - call: service.operation     a boto3 client method
          params: {...}               {{name}} (unique per case), {{account}}, {{region}},
                                      {{zip}} (a Python deployment package) and saved values
          save: {var: Dotted.Path}    keep part of the answer (list items by index)
          select: Dotted.Path         compare only this part of the answer
          json: [Dotted.Path, ...]    parse these string members of the answer (after
                                      `select`) as JSON before comparing: a recording stores
                                      JSON text parsed (Lambda's Policy, Statement)
          expect: ...                 the recorded answer
          expect_error: ...           the recorded ClientError.response
          may_fail: true              a setup step whose failure does not matter
          until: {Dotted.Path: value} repeat the call until the answer says so (AWS
                                      resources that become ACTIVE), then compare
        - wait: kinesis.stream_exists a boto3 waiter
          params: {...}

Prints one line per case, then a JSON summary as the last line. Exits 1 if any case gave an
unexpected result.
"""
import argparse
import datetime
import io
import json
import os
import random
import re
import sys
import time
import uuid
import zipfile

import boto3
import botocore.config
import botocore.exceptions
import yaml

PLACEHOLDER = re.compile(r"<[^<>\s]+>")
WHOLE_PLACEHOLDER = re.compile(r"^<[^<>\s]+>$")
RECORDED_ACCOUNT = "111111111111"
TIME_MARKERS = ("timestamp", "datetime", "<datetime>", "<timestamp>")
# How an `until` step polls: the runtime's lifecycles take well under a second in its fast
# profile; the bound only keeps a broken case from hanging the suite.
UNTIL_INTERVAL = float(os.environ.get("CONFORMANCE_POLL_SECONDS", "0.1"))
UNTIL_ATTEMPTS = 600


class Mismatch(Exception):
    pass


class Case:
    def __init__(self, endpoint, account, region, variables, validate=True):
        self.endpoint = endpoint
        self.validate = validate
        self.account = account
        self.region = region
        self.vars = variables
        self.bindings = {}
        self.clients = {}

    def client(self, service):
        if service not in self.clients:
            self.clients[service] = boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name=self.region,
                aws_access_key_id=self.account,
                aws_secret_access_key="conformance",
                config=botocore.config.Config(
                    retries={"max_attempts": 1}, parameter_validation=self.validate
                ),
            )
        return self.clients[service]

    # --- variables -------------------------------------------------------------------------

    def substitute(self, value):
        if isinstance(value, str):
            whole = re.fullmatch(r"\{\{(\w+)\}\}", value)
            if whole and not isinstance(self.vars.get(whole.group(1)), str):
                return self.lookup(whole.group(1))
            return re.sub(r"\{\{(\w+)\}\}", lambda m: str(self.lookup(m.group(1))), value)
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        if isinstance(value, dict):
            return {k: self.substitute(v) for k, v in value.items()}
        return value

    def lookup(self, name):
        if name not in self.vars:
            raise Mismatch(f"the case uses {{{{{name}}}}}, which no step saved")
        return self.vars[name]

    # --- comparison ------------------------------------------------------------------------

    def bind(self, label, actual, path):
        if label in self.bindings and self.bindings[label] != actual:
            raise Mismatch(
                f"{path}: {label} was {self.bindings[label]!r} before, {actual!r} here"
            )
        self.bindings[label] = actual

    def compare(self, expected, actual, path="$"):
        if isinstance(expected, str) and expected in TIME_MARKERS:
            if not isinstance(actual, datetime.datetime):
                raise Mismatch(f"{path}: expected a timestamp, got {actual!r}")
            return
        if isinstance(actual, datetime.datetime):
            raise Mismatch(f"{path}: expected {expected!r}, got a timestamp")
        if isinstance(actual, (bytes, bytearray)):
            actual = repr(bytes(actual))
        if isinstance(expected, str) and WHOLE_PLACEHOLDER.match(expected):
            if isinstance(actual, (dict, list)) or actual is None:
                raise Mismatch(f"{path}: expected a value ({expected}), got {actual!r}")
            self.bind(expected, actual, path)
            return
        if isinstance(expected, str) and (
            PLACEHOLDER.search(expected) or RECORDED_ACCOUNT in expected
        ):
            if not isinstance(actual, str):
                raise Mismatch(f"{path}: expected a string like {expected!r}, got {actual!r}")
            self.match_pattern(expected, actual, path)
            return
        if isinstance(expected, dict):
            if not isinstance(actual, dict):
                raise Mismatch(f"{path}: expected an object, got {actual!r}")
            missing = sorted(set(expected) - set(actual))
            extra = sorted(set(actual) - set(expected))
            if missing or extra:
                raise Mismatch(f"{path}: keys missing {missing}, extra {extra}")
            for key in expected:
                self.compare(expected[key], actual[key], f"{path}.{key}")
            return
        if isinstance(expected, list):
            if not isinstance(actual, list):
                raise Mismatch(f"{path}: expected a list, got {actual!r}")
            if len(expected) != len(actual):
                raise Mismatch(
                    f"{path}: expected {len(expected)} items, got {len(actual)}: {actual!r}"
                )
            for i, (e, a) in enumerate(zip(expected, actual)):
                self.compare(e, a, f"{path}[{i}]")
            return
        if type(expected) is not type(actual) and not (
            isinstance(expected, (int, float))
            and isinstance(actual, (int, float))
            and not isinstance(expected, bool)
            and not isinstance(actual, bool)
        ):
            raise Mismatch(f"{path}: expected {expected!r}, got {actual!r}")
        if expected != actual:
            raise Mismatch(f"{path}: expected {expected!r}, got {actual!r}")

    def match_pattern(self, expected, actual, path):
        labels = []
        pattern = ""
        pos = 0
        for m in re.finditer(r"<[^<>\s]+>|111111111111", expected):
            pattern += re.escape(expected[pos : m.start()])
            if m.group(0) == RECORDED_ACCOUNT:
                pattern += r"(\d{12})"
                labels.append("<account>")
            elif isinstance(self.bindings.get(m.group(0)), str):
                # Already bound: only that text will do (a lazy group could split
                # `<stream-name>/<stream-consumer>` elsewhere than the earlier match did).
                pattern += "(" + re.escape(self.bindings[m.group(0)]) + ")"
                labels.append(m.group(0))
            else:
                pattern += "(.+?)"
                labels.append(m.group(0))
            pos = m.end()
        pattern += re.escape(expected[pos:])
        found = re.fullmatch(pattern, actual, re.S)
        if not found:
            raise Mismatch(f"{path}: expected the shape {expected!r}, got {actual!r}")
        for label, value in zip(labels, found.groups()):
            self.bind(label, value, path)

    # --- steps -----------------------------------------------------------------------------

    def run_step(self, index, step):
        where = f"step {index + 1}"
        params = self.substitute(step.get("params", {}))
        if "wait" in step:
            service, waiter = step["wait"].split(".", 1)
            params.setdefault(
                "WaiterConfig", {"Delay": UNTIL_INTERVAL, "MaxAttempts": UNTIL_ATTEMPTS}
            )
            self.client(service).get_waiter(waiter).wait(**params)
            return
        service, operation = step["call"].split(".", 1)
        method = getattr(self.client(service), operation)
        attempts = 0
        while True:
            try:
                response = method(**params)
                failed = None
            except botocore.exceptions.ClientError as error:
                response = error.response
                failed = error
            if "until" not in step or reached(response, step["until"]):
                break
            attempts += 1
            if attempts >= UNTIL_ATTEMPTS:
                raise Mismatch(f"{where} ({step['call']}): never reached {step['until']}")
            time.sleep(UNTIL_INTERVAL)
        if "save" in step:
            if failed is not None:
                raise Mismatch(f"{where} ({step['call']}): failed with {failed}")
            for var, selector in step["save"].items():
                self.vars[var] = select(response, selector, where)
        if "expect_error" in step:
            if failed is None:
                raise Mismatch(f"{where} ({step['call']}): succeeded, AWS refused it")
            self.compare_response(step["expect_error"], response, f"{where} {step['call']}")
        elif "expect" in step:
            if failed is not None:
                raise Mismatch(f"{where} ({step['call']}): failed with {failed}")
            answer = response
            if "select" in step:
                answer = select(response, step["select"], where)
            else:
                answer = read_payloads(answer)
            for path in step.get("json", []):
                answer = parse_json_member(answer, str(path).split("."), path, where)
            self.compare_response(step["expect"], answer, f"{where} {step['call']}")
        elif failed is not None and not step.get("may_fail"):
            raise Mismatch(f"{where} ({step['call']}): setup failed with {failed}")

    def compare_response(self, expected, actual, path):
        if isinstance(expected, dict) and isinstance(actual, dict):
            actual = dict(actual)
            expected = dict(expected)
            metadata = actual.pop("ResponseMetadata", None)
            wanted = expected.pop("ResponseMetadata", None)
            if wanted is not None and "HTTPStatusCode" in wanted:
                status = (metadata or {}).get("HTTPStatusCode")
                if status != wanted["HTTPStatusCode"]:
                    raise Mismatch(f"{path}: status {status}, AWS answered {wanted['HTTPStatusCode']}")
        self.compare(expected, actual, path)


def reached(response, until):
    """Whether every `Dotted.Path: value` of an `until` holds in the answer."""
    for selector, wanted in until.items():
        try:
            if select(response, selector, "until") != wanted:
                return False
        except Mismatch:
            return False
    return True


def read_payloads(response):
    """Reads streaming bodies (Lambda's Payload) so they compare as the recordings do."""
    if isinstance(response, dict):
        out = {}
        for key, value in response.items():
            if hasattr(value, "read") and callable(value.read):
                raw = value.read()
                try:
                    out[key] = json.loads(raw)
                except ValueError:
                    out[key] = raw
            else:
                out[key] = value
        return out
    return response


def select(response, selector, where):
    value = response
    for part in str(selector).split("."):
        if isinstance(value, list):
            try:
                value = value[int(part)]
            except (ValueError, IndexError):
                raise Mismatch(f"{where}: no {selector} in the answer")
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise Mismatch(f"{where}: no {selector} in the answer: {response!r}")
    return value


def parse_json_member(value, parts, path, where):
    """`value` with the string at `parts` parsed as JSON; what holds it is copied, not changed."""
    if not parts:
        if not isinstance(value, str):
            raise Mismatch(f"{where}: {path} is not JSON text: {value!r}")
        try:
            return json.loads(value)
        except ValueError as e:
            raise Mismatch(f"{where}: {path} is not JSON ({e}): {value!r}")
    head, rest = parts[0], parts[1:]
    if isinstance(value, list):
        try:
            index = int(head)
            item = value[index]
        except (ValueError, IndexError):
            raise Mismatch(f"{where}: no {path} in the answer")
        out = list(value)
        out[index] = parse_json_member(item, rest, path, where)
        return out
    if isinstance(value, dict) and head in value:
        out = dict(value)
        out[head] = parse_json_member(value[head], rest, path, where)
        return out
    raise Mismatch(f"{where}: no {path} in the answer: {value!r}")


def handler_zip():
    """A deployment package for cases that create functions: `index.handler` echoes its event."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def load(directory):
    cases = []
    if os.path.isfile(directory):
        directory, names = os.path.dirname(directory), [os.path.basename(directory)]
    else:
        names = sorted(os.listdir(directory))
    for name in names:
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        source = doc.get("source") or {}
        for case in doc.get("cases", []):
            case_source = dict(source, **(case.get("source") or {}))
            missing = [k for k in ("repo", "commit", "path") if not case_source.get(k)]
            if missing:
                sys.exit(f"{name}: case {case.get('name')} has no source {missing}")
            cases.append((name, case, case_source))
    names = [c["name"] for _, c, _ in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        sys.exit(f"duplicate case names: {duplicates}")
    return cases


SERVICES = {
    "apigateway": "API Gateway",
    "iam": "IAM",
    "kinesis": "Kinesis",
    "lambda": "Lambda",
    "logs": "CloudWatch Logs",
    "personalize": "Personalize",
    "sts": "STS",
}


def write_markdown(path, results, cases):
    """README's figure and list of known differences, grouped by service."""
    lines = [
        f"{results['match']} of {results['cases']} recorded cases match "
        f"({100 * results['match'] / max(results['cases'], 1):.1f} %); "
        f"{len(results['known_differences'])} are known differences:",
        "",
    ]
    known = set(results["known_differences"])
    by_file = {}
    for file, case, _ in cases:
        if case["name"] in known:
            by_file.setdefault(file, []).append(case)
    for file, listed in sorted(by_file.items()):
        service = SERVICES.get(file.removesuffix(".yaml"), file)
        lines.append(f"- **{service}**")
        for case in listed:
            lines.append(f"  - `{case['name']}`: {case['differs']}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--cases", help="a case file, or a directory of them", default=os.path.join(os.path.dirname(__file__), "cases"))
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        help="also write README's figure and known-differences list (Markdown) to FILE",
    )
    args = parser.parse_args()

    cases = load(args.cases)
    if args.only:
        cases = [c for c in cases if args.only in c[1]["name"]]
    results = {"cases": 0, "match": 0, "known_differences": [], "unexpected": []}
    run_id = uuid.uuid4().hex[:6]
    # A fresh block of accounts per run, so a runtime reused between runs shows no case
    # what an earlier run left.
    account_prefix = str(random.randint(100000, 999999))
    for number, (file, case, source) in enumerate(cases):
        account = f"{account_prefix}{number:06d}"
        variables = {
            "name": f"cf-{run_id}-{number}",
            "account": account,
            "region": args.region,
            "zip": handler_zip(),
        }
        variables.update(case.get("vars") or {})
        runner = Case(
            args.endpoint,
            account,
            args.region,
            variables,
            validate=case.get("parameter_validation", True),
        )
        results["cases"] += 1
        problem = None
        try:
            for i, step in enumerate(case["steps"]):
                runner.run_step(i, step)
        except Mismatch as m:
            problem = str(m)
        except Exception as e:  # a crash in a case is a result too, not the end of the run
            problem = f"{type(e).__name__}: {e}"
        differs = case.get("differs")
        if problem is None and differs is None:
            results["match"] += 1
            print(f"match    {case['name']}")
        elif problem is None:
            results["unexpected"].append(case["name"])
            print(f"NOW MATCHES {case['name']}: remove its `differs` mark and README's line")
        elif differs is not None:
            results["known_differences"].append(case["name"])
            print(f"differs  {case['name']}: {differs}\n         {problem}")
        else:
            results["unexpected"].append(case["name"])
            print(f"DIFFERS  {case['name']} ({file})\n         {problem}")
    if args.markdown:
        write_markdown(args.markdown, results, cases)
    print(json.dumps(results))
    sys.exit(1 if results["unexpected"] else 0)


if __name__ == "__main__":
    main()
