"""deploy/: the systemd units and the Procfile parse, run only the web server and the
workers, restart them, and name commands that exist (flask commands registered, the
gunicorn app importable, the programs in the virtualenv)."""
from __future__ import annotations

import configparser
import importlib
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALL_DIR = "/opt/trustdesk"  # where the units expect the repository
UNITS = ("trustdesk-web.service", "trustdesk-worker@.service")


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    return parser


def _check_command(argv: list[str], app) -> str:  # noqa: ANN001
    """The program exists in the repo's virtualenv and its arguments name real things;
    returns the program's name."""
    program = Path(argv[0]).name
    assert argv[0].endswith(f".venv/bin/{program}")
    assert (ROOT / ".venv" / "bin" / program).exists(), argv[0]
    if program == "flask":
        assert argv[1] in app.cli.commands, f"flask {argv[1]} is not a registered command"
        command = app.cli.commands[argv[1]]
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for arg in argv[2:]:
            if arg.startswith("--"):
                assert arg in options, f"flask {argv[1]} has no option {arg}"
    elif program == "gunicorn":
        module, _, factory = argv[-1].partition(":")  # gunicorn's APP_MODULE comes last
        assert callable(getattr(importlib.import_module(module), factory.removesuffix("()")))
    else:  # pragma: no cover - only the two processes are deployed
        pytest.fail(f"unexpected program {program}")
    return program


@pytest.mark.parametrize("name", UNITS)
def test_the_systemd_units_parse_restart_and_name_real_commands(name, app):
    unit = _unit(name)
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert service["Restart"] in {"always", "on-failure"}
    assert int(service["RestartSec"]) > 0
    assert service["WorkingDirectory"] == INSTALL_DIR
    argv = shlex.split(service["ExecStart"])
    assert argv[0].startswith(f"{INSTALL_DIR}/.venv/bin/")
    program = _check_command(argv, app)
    assert program == ("gunicorn" if "web" in name else "flask")
    assert unit["Install"]["WantedBy"] == "trustdesk.target"


def test_the_target_starts_the_web_and_the_workers_only():
    target = _unit("trustdesk.target")
    wanted = target["Unit"]["Wants"].split()
    assert "trustdesk-web.service" in wanted
    assert all(w == "trustdesk-web.service" or w.startswith("trustdesk-worker@") for w in wanted)


def test_the_procfile_runs_gunicorn_and_workers_and_nothing_else(app):
    entries = {}
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    assert set(entries) == {"web", "worker"}
    for name, command in entries.items():
        assert _check_command(shlex.split(command), app) == ("gunicorn" if name == "web" else "flask")
