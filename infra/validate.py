"""Validate built stacks: `python -m infra.validate [template.json …]` (default: every build).

Two tools, both run by `make test` (tests/integration/test_infra_checks.py) on every region's
template:

- cfn-lint, CloudFormation's own linter (it validates the SAM resources against SAM's schema):
  no errors and no warnings;
- checkov, an IaC security scanner: no failed check, and every suppression in the template
  (`Metadata.checkov.skip` on the resource) carries its reason and suppresses a check that
  checkov actually runs.

checkov pins boto3 to an older release than ours, so it lives in its own virtualenv
(`.venv/scan`, from requirements-scan.txt; `make test` creates it). `CHECKOV` overrides its path.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv" / "scan" / "bin" / "checkov"


@dataclass
class Findings:
    tool: str
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.problems)


def cfn_lint(templates: list[Path]) -> Findings:
    found = Findings("cfn-lint")
    done = subprocess.run(  # noqa: S603 (our own arguments)
        [str(Path(sys.executable).with_name("cfn-lint")), "--format", "json", *map(str, templates)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode and not done.stdout.strip():
        return Findings("cfn-lint", [f"cfn-lint failed to run: {done.stderr.strip()}"])
    for match in json.loads(done.stdout or "[]"):
        if match["Level"] in ("Error", "Warning"):
            where = f"{match['Filename']}:{match['Location']['Start']['LineNumber']}"
            found.problems.append(
                f"{match['Level']} {match['Rule']['Id']} {where}: {match['Message']}"
            )
    return found


def checkov_path() -> Path:
    return Path(os.environ.get("CHECKOV", CHECKOV))


def checkov(templates: list[Path]) -> Findings:
    found = Findings("checkov")
    binary = checkov_path()
    if not binary.is_file():
        found.problems.append(f"checkov is not installed at {binary}: run `make test` once")
        return found
    files = [arg for t in templates for arg in ("-f", str(t))]
    done = subprocess.run(  # noqa: S603 (our own arguments)
        [str(binary), *files, "--framework", "cloudformation", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "ERROR"},
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        found.problems.append(f"checkov failed to run: {done.stderr.strip()[-2000:]}")
        return found
    reports = report if isinstance(report, list) else [report]
    used: set[tuple[str, str, str]] = set()
    for each in reports:
        results = each.get("results", {})
        if each.get("summary", {}).get("parsing_errors"):
            found.problems.append(f"checkov could not parse: {results.get('parsing_errors')}")
        for check in results.get("failed_checks", []):
            found.problems.append(
                f"{check['check_id']} {check['resource']} ({check['file_path']}): "
                f"{check['check_name']}"
            )
        for check in results.get("skipped_checks", []):
            reason = check.get("check_result", {}).get("suppress_comment") or ""
            if not reason.strip():
                found.problems.append(f"{check['check_id']} on {check['resource']}: no reason")
            # checkov names a resource `<type>.<logical id>`
            resource_id = check["resource"].rsplit(".", 1)[-1]
            used.add(((ROOT / check["file_abs_path"]).resolve(), resource_id, check["check_id"]))
    for template in templates:
        for resource_id, check_id in suppressions(json.loads(template.read_text())):
            if (template.resolve(), resource_id, check_id) not in used:
                found.problems.append(
                    f"{template}: {resource_id} suppresses {check_id}, which checkov does not run "
                    "on it: remove the suppression"
                )
    return found


def suppressions(template: dict) -> list[tuple[str, str]]:
    return [
        (resource_id, skipped["id"])
        for resource_id, resource in template["Resources"].items()
        for skipped in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def validate(templates: list[Path]) -> list[Findings]:
    return [cfn_lint(templates), checkov(templates)]


def main(argv: list[str] | None = None) -> int:
    paths = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    paths = paths or sorted((ROOT / "infra" / "build").glob("*/template.json"))
    if not paths:
        print("nothing to validate: run `make package REGION=… STAGE=…` first")
        return 1
    failed = False
    for findings in validate(paths):
        print(f"{findings.tool}: {len(findings.problems)} problem(s) in {len(paths)} template(s)")
        for problem in findings.problems:
            print(f"  {problem}")
        failed = failed or bool(findings)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
