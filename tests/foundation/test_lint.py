"""ruff (with Airflow's AIR rules, see pyproject.toml) is clean over the whole project."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_clean():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "dags", "include", "tests", "bench"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_air_rules_enabled():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"AIR"' in text
