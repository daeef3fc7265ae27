"""CI's checks on the stacks: every region's template, dev and prod, passes cfn-lint with no
errors or warnings and checkov with no failed check, each suppression justified in place
(infra/validate.py). One run of each tool covers all the templates.
"""

import json

import pytest

from infra import validate

from .infra_fixtures import REGIONS, stack

STAGES = ("dev", "prod")


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    root = tmp_path_factory.mktemp("stacks")
    paths = []
    for region in REGIONS:
        for stage in STAGES:
            path = root / f"{stage}-{region}" / "template.json"
            path.parent.mkdir()
            path.write_text(json.dumps(stack(region, stage), indent=2))
            paths.append(path)
    return paths


def test_cfn_lint_finds_nothing(templates):
    findings = validate.cfn_lint(templates)
    assert not findings, "\n".join(findings.problems)


def test_checkov_passes_and_every_suppression_is_justified(templates):
    findings = validate.checkov(templates)
    assert not findings, "\n".join(findings.problems)


def test_the_checks_catch_what_they_are_for(tmp_path):
    broken = stack("eu-west-1", "prod")
    resources = broken["Resources"]
    resources["StackKey"]["Properties"]["EnableKeyRotation"] = False  # checkov CKV_AWS_7
    resources["MainTable"]["Properties"]["BillingMode"] = "CHEAP"  # cfn-lint E3030
    resources["IngestQueue"]["Metadata"] = {  # checkov does not run CKV_AWS_28 on a queue
        "checkov": {"skip": [{"id": "CKV_AWS_28", "comment": "not a table"}]}
    }
    (first, *_) = resources["RestAPI"]["Metadata"]["checkov"]["skip"]
    first["comment"] = ""  # a suppression without its reason
    path = tmp_path / "template.json"
    path.write_text(json.dumps(broken, indent=2))

    linted = "\n".join(validate.cfn_lint([path]).problems)
    assert "E3030" in linted
    scanned = "\n".join(validate.checkov([path]).problems)
    assert "CKV_AWS_7" in scanned
    assert "IngestQueue suppresses CKV_AWS_28" in scanned
    assert f"{first['id']} on AWS::Serverless::Api.RestAPI: no reason" in scanned
