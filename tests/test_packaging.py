"""The package as pip installs it without -e: every module folder of qa/ is listed in pyproject.toml."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_installed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "qa").rglob("*")
               if p.is_file() and p.suffix in (".py", ".css", ".js") and "__pycache__" not in p.parts}
    assert folders <= listed, f"not installed by pip install .: {sorted(folders - listed)}"
