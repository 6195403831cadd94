"""The Docker image's build steps, replayed outside Docker (no Docker daemon here): the files the
Dockerfile copies, then each of its RUN steps but the package install (the test's environment
has the package), in an empty folder. The image's layers must carry the collected static files
and no generated secret."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def dockerfile_steps() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile step, continuation lines joined."""
    steps: list[tuple[str, str]] = []
    pending = ""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            instruction, _, arguments = pending.strip().partition(" ")
            steps.append((instruction.upper(), arguments))
            pending = ""
    return steps


def test_image_build_leaves_no_secret_in_a_layer(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    for instruction, arguments in dockerfile_steps():
        if instruction == "COPY":
            *sources, target = arguments.split()
            for source in sources:
                destination = app / target / source if target.endswith("/") else app / target
                if (REPO / source).is_dir():
                    shutil.copytree(
                        REPO / source, destination, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy(REPO / source, destination)
        elif instruction == "RUN" and not arguments.startswith("pip install"):
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(
                    ("GATEWAY_", "DJANGO_", "SECRET_KEY", "DEBUG", "DATABASE_URL")
                )
            }
            env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
            subprocess.run(
                ["bash", "-c", arguments],
                cwd=app,
                env=env,
                check=True,
                timeout=120,
                capture_output=True,
            )

    var = app / "var"
    assert (var / "static" / "admin" / "css" / "base.css").is_file()
    assert not (var / "secret_key").exists()
    assert not (var / "gateway_secrets_key").exists()
    assert sorted(p.name for p in var.iterdir()) == ["static"]
