"""`.shoppable/dev.json`: where tools, scripts and the e2e tests find the running stack.

It is written once the API answers, so its existence means "ready", and written atomically
(a reader never sees half of it). It holds dev secrets only, readable by its owner alone, and
is removed when the stack stops: its URLs and keys die with the emulator's memory.
"""

import json
import os
from pathlib import Path

FILE_NAME = "dev.json"


def dev_dir() -> Path:
    return Path(os.environ.get("SHOPPABLE_DEV_DIR") or ".shoppable")


def write_dev_file(directory: Path, info: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILE_NAME
    partial = path.with_suffix(".json.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(info, out, indent=2)
        out.write("\n")
    partial.replace(path)
    return path


def remove_dev_file(directory: Path) -> None:
    (directory / FILE_NAME).unlink(missing_ok=True)
