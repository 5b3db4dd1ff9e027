"""Puts what the package carries into ``src/aos_accounts/data`` when it is built: the engine component, the
SQLite migrations, the SQL catalogue and the WIT contract, all from this repository. The component comes
from ``$ACCOUNT_ENGINE_WASM``, else from the Rust build, published into ``target/contract/`` by
``account-service contract --out`` (run with cargo on every build)."""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = HERE / "src" / "aos_accounts" / "data"


def component() -> Path:
    given = os.environ.get("ACCOUNT_ENGINE_WASM")
    if given:
        return Path(given)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    published = target / "contract"
    # Published on every build (cargo rebuilds only what changed), so a package never carries an engine
    # older than the repository's.
    subprocess.run(
        ["cargo", "run", "--quiet", "-p", "account-host", "--bin", "account-service", "--", "contract", "--out", str(published)],
        cwd=ROOT,
        check=True,
    )
    return published / "account-engine.wasm"


def copy_tree(source: Path, target: Path, pattern: str) -> None:
    if target.exists():
        shutil.rmtree(target)
    for file in source.rglob(pattern):
        destination = target / file.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, destination)


class BuildWithData(build_py):
    def run(self):
        if (ROOT / "migrations").is_dir():  # building from the repository (not from an sdist)
            DATA.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(component(), DATA / "account-engine.wasm")
            copy_tree(ROOT / "migrations" / "sqlite", DATA / "migrations", "*.sql")
            shutil.copyfile(ROOT / "migrations" / "sqlite" / "rewritten.json", DATA / "migrations" / "rewritten.json")
            copy_tree(ROOT / "hosts" / "sql", DATA / "sql", "*.sql")
            copy_tree(ROOT / "wit", DATA / "wit", "*.wit")
        super().run()


setup(cmdclass={"build_py": BuildWithData})
