"""The package: pyproject.toml lists every ganlab package and shipped file, dependency lists agree, constraints pin
them, model cards carry licences; and (slow) `pip install` of the wheel works outside the checkout."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ganlab import paths

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _requirements(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments, blank lines and -r includes dropped)."""
    lines = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("-")]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_pyproject_lists_every_ganlab_package_and_maps_pretrained() -> None:
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "ganlab").rglob("__init__.py")}
    assert set(SETUPTOOLS["packages"]) == found | {"ganlab.pretrained"}
    assert SETUPTOOLS["package-dir"] == {"ganlab.pretrained": "pretrained"}


def test_package_data_patterns_cover_every_shipped_model_file() -> None:
    patterns = SETUPTOOLS["package-data"]["ganlab.pretrained"]
    shipped = [p.relative_to(ROOT / "pretrained") for p in (ROOT / "pretrained").rglob("*") if p.is_file()]
    assert shipped
    uncovered = [str(p) for p in shipped if not any(p.match(pattern) for pattern in patterns)]
    assert not uncovered, f"not in the wheel: {uncovered}"


def test_console_script_is_the_cli_main() -> None:
    from ganlab.cli import main

    module, _, func = PYPROJECT["project"]["scripts"]["ganlab"].partition(":")
    assert getattr(sys.modules[module], func) is main


def test_requirements_files_equal_the_pyproject_dependencies() -> None:
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    runtime = project["dependencies"] + extras["app"]
    assert _requirements(ROOT / "requirements.txt") == runtime
    dev = [r for r in extras["dev"] if not r.startswith("ganlab[")]
    assert _requirements(ROOT / "requirements-dev.txt") == extras["tensorboard"] + dev
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")


def test_runtime_requirements_hold_only_what_the_code_imports() -> None:
    runtime = {_name(r) for r in _requirements(ROOT / "requirements.txt")}
    assert not runtime & {"scipy", "torchmetrics", "pytest", "tensorboard"}, "test-only or optional packages"
    assert not runtime & {"watchdog"}, "streamlit brings watchdog itself where it helps"


def test_constraints_pin_every_requirement_exactly() -> None:
    pins = {}
    for line in _requirements(ROOT / "constraints.txt"):
        name, _, version = line.partition("==")
        assert version, f"constraints.txt: {line!r} is not an exact pin"
        pins[_name(name)] = version
    wanted = {_name(r) for f in ("requirements.txt", "requirements-dev.txt") for r in _requirements(ROOT / f)}
    assert not wanted - set(pins), f"not pinned: {sorted(wanted - set(pins))}"
    assert "ganlab" not in pins


def test_readme_test_command_installs_with_the_constraints() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = readme.split("<!-- test-command -->", 1)[1].split("```bash", 1)[1].split("```", 1)[0].strip()
    assert "-c constraints.txt" in command and "requirements-dev.txt" in command


def test_every_shipped_card_names_its_licence_and_its_data_licence() -> None:
    cards = sorted((ROOT / "pretrained").rglob("*.json"))
    assert len(cards) >= 8
    expected = {"digits": "CC-BY-4.0", "fashion": "MIT", "emoji": "OFL-1.1"}
    for path in cards:
        card = json.loads(path.read_text(encoding="utf-8"))
        assert card["licence"] == "MIT", path.name
        source = next(key for key in expected if key in path.stem)
        assert card["data_licence"] == expected[source], path.name
        assert "http" in card["data_attribution"], path.name
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_pretrained_dir_follows_ganlab_pretrained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GANLAB_PRETRAINED", raising=False)
    assert paths.pretrained_dir() == paths.shipped_dir() == ROOT / "pretrained"  # a checkout
    monkeypatch.setenv("GANLAB_PRETRAINED", str(tmp_path))
    assert paths.pretrained_dir() == tmp_path
    assert paths.shipped_dir() == ROOT / "pretrained"  # the extractors do not move with it


@pytest.mark.slow
def test_pip_install_outside_the_checkout_gives_a_working_cli(tmp_path: Path) -> None:
    """Build the wheel with this environment's setuptools (no download), install it into a new venv that sees this
    environment's packages through a .pth file (torch is not downloaded again), then use `ganlab` elsewhere."""
    setuptools = pytest.importorskip("setuptools", reason="building the wheel offline needs setuptools here")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} here; the offline build needs >= 77 (PEP 639 licence)")
    source = tmp_path / "source"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for name in files:  # a copy of the tracked tree: the build leaves build/ and *.egg-info there, not here
        if name.split("/")[0] in ("ganlab", "pretrained") or name in ("pyproject.toml", "README.md", "LICENSE"):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist),
                    str(source)], check=True, timeout=300)
    wheel = next(dist.glob("ganlab-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    site = subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "zz_shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=300)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GANLAB_PRETRAINED")}
    env["GANLAB_HOME"] = str(tmp_path / "home")

    def ganlab(*args: str) -> str:
        done = subprocess.run([str(bin_dir / "ganlab"), *args], cwd=elsewhere, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"ganlab {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    assert "usage: ganlab" in ganlab("--help")
    assert "wrote 8 samples" in ganlab("sample", "fashion-dcgan", "--seeds", "0-7", "--out", "grid.png")
    assert (elsewhere / "grid.png").stat().st_size > 0
    ganlab("train", "--dataset", "digits", "--img-size", "16", "--g-channels", "8", "--d-channels", "8",
           "--batch-size", "16", "--max-steps", "4", "--threads", "1", "--quality-every", "2")
    written = re.search(r"wrote events\.out\.tfevents\.ganlab \((\d+) scalar series", ganlab("tensorboard", "--all"))
    assert written and int(written.group(1)) >= 5, "losses, D outputs, img/s and FID/KID as TensorBoard scalars"

    where = subprocess.run([str(bin_dir / "python"), "-c", "import ganlab, ganlab.paths as p; "
                            "print(ganlab.__file__); print(p.pretrained_dir()); print(p.shipped_dir())"],
                           cwd=elsewhere, env=env, check=True, capture_output=True, text=True).stdout.split("\n")
    assert all(str(venv) in line for line in where[:3]), where  # the installed copy and its package data
    requirements = subprocess.run(
        [str(bin_dir / "python"), "-c", "from importlib.metadata import requires, version\n"
         "from packaging.requirements import Requirement\n"
         "for r in map(Requirement, requires('ganlab')):\n"
         "    if not r.marker or any(r.marker.evaluate({'extra': e}) for e in ('app', 'tensorboard')):\n"
         "        print(r.name, version(r.name), r.specifier.contains(version(r.name)))"],
        cwd=elsewhere, env=env, check=True, capture_output=True, text=True).stdout.splitlines()
    assert requirements and all(line.endswith("True") for line in requirements), requirements
