"""What the infra tests share: chalice's template, packaged once per test session, and the
merged stacks of every region (`stack(region, stage)`, each a fresh copy).

`chalice package` takes about 6 s (its pip step is cached in `.chalice/deployments`), and its
output does not depend on the region: the template refers to `${AWS::Region}`, never to one.
"""

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

from infra import build
from infra.regions import known_regions, load_region

REGIONS = known_regions()


@functools.cache
def _package_dir() -> Path:
    out = Path(tempfile.mkdtemp(prefix="shoppable-package-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    (out / "sam.json").write_text(json.dumps(build.package("dev", "us-east-1", out)))
    return out


def _packaged() -> str:
    return (_package_dir() / "sam.json").read_text()


def deployment_zip() -> Path:
    """The code zip chalice packaged for every Lambda function."""
    return _package_dir() / "deployment.zip"


def chalice_template() -> dict:
    """Chalice's own template, unmerged (a fresh copy)."""
    return json.loads(_packaged())


@functools.cache
def _stack(region: str, stage: str) -> str:
    return json.dumps(build.merge(chalice_template(), stage=stage, region=load_region(region)))


def stack(region: str, stage: str = "dev") -> dict:
    """One region's merged template, as `make package` writes it (a fresh copy)."""
    return json.loads(_stack(region, stage))


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def functions(template: dict) -> dict[str, dict]:
    return resources_of(template, build.FUNCTION)


def environment(template: dict, function_id: str) -> dict:
    return template["Resources"][function_id]["Properties"]["Environment"]["Variables"]


def references(value) -> set[str]:
    """The logical ids `value` refers to (Ref, Fn::GetAtt, Fn::Sub), pseudo parameters left out."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (inner, {}) if isinstance(inner, str) else inner
                local = set(variables)
                for name in _sub_names(text):
                    if name.split(".")[0] not in local:
                        found.add(name.split(".")[0])
                found |= references(variables)
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return {name for name in found if not name.startswith("AWS::")}


def _sub_names(text: str) -> list[str]:
    import re

    return [m for m in re.findall(r"\$\{([^}!]+)\}", text)]
