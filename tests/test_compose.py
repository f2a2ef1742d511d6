"""The docker-compose deployment, checked without a Docker engine.

Every check is a small function that returns a list of problems: the real ``docker-compose.yml``
must give none, and each check has a negative test on a mutated copy that proves it can fail.

What is checked: the file validates against the Compose specification's JSON schema (vendored in
``check-jsonschema``) after ``${VAR}`` interpolation the way compose does it, and secrets come
from the environment; the services, the KRaft broker and its topics; health checks and
``depends_on`` conditions; that every ``driftline ...`` command and flag exists in the real
argparse parser; that every ``DRIFTLINE_*`` variable is a field of ``monitor.settings.Settings``
and parses; the wiring between services (database URL, Kafka listeners); the Grafana provisioning
mounts and the variables they use; and that ``.env.example`` names what the file needs.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.resources
import io
import json
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from sqlalchemy.engine import make_url

from monitor.cli import build_parser
from monitor.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

#: What the test interpolates with: the required secrets, nothing optional (defaults apply).
TEST_ENV = {
    "POSTGRES_PASSWORD": "pg-test-password",
    "GRAFANA_ADMIN_PASSWORD": "grafana-test-password",
    "DRIFTLINE_REPORTING_PASSWORD": "reporting-test-password",
}
REQUIRED_SECRETS = ("POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "DRIFTLINE_REPORTING_PASSWORD")
REQUIRED_SERVICES = ("kafka", "postgres", "migrate", "api", "worker", "grafana", "simulator")
PROFILED = {"simulator": ["simulator"]}
#: Variables a driftline service may set besides DRIFTLINE_* settings.
ALLOWED_EXTRA_ENV = frozenset({"PYTHONUNBUFFERED", "TZ"})
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$", re.IGNORECASE)

Compose = dict[str, Any]


# -- interpolation (compose's rules) ------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<invalid>))"
)


class InterpolationError(ValueError):
    """A ``${VAR:?err}`` whose variable is missing, or a malformed ``$`` expression."""


def interpolate_string(text: str, env: Mapping[str, str]) -> str:
    """One string with compose's rules: ``$$`` is ``$``; ``${VAR:-d}`` (unset or empty),
    ``${VAR-d}`` (unset), ``${VAR:?e}`` / ``${VAR?e}`` (error), ``${VAR:+r}`` / ``${VAR+r}``.

    >>> interpolate_string("a${X:-d}b$$c${Y-e}", {"Y": ""})
    'adb$c'
    """

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped") is not None:
            return "$"
        if match.group("named") is not None:
            return env.get(match.group("named"), "")
        name = match.group("braced")
        if name is None:
            raise InterpolationError(f"invalid interpolation format in {text!r}")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        present = value is not None and (value != "" or not (op or "").startswith(":"))
        if op is None:
            return value or ""
        if op.endswith("-"):
            return value if present and value is not None else arg
        if op.endswith("?"):
            if not present or value is None:
                raise InterpolationError(f"required variable {name} is missing a value: {arg}")
            return value
        return arg if present else ""  # ":+" and "+"

    return _INTERPOLATION.sub(substitute, text)


def interpolate(node: Any, env: Mapping[str, str], errors: list[str] | None = None) -> Any:
    """Interpolate every string value of a loaded compose document (keys are left alone).

    With ``errors`` given, failures are collected there (the string is kept as it was);
    without, the first one raises :class:`InterpolationError`.
    """
    if isinstance(node, dict):
        return {k: interpolate(v, env, errors) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env, errors) for v in node]
    if isinstance(node, str):
        try:
            return interpolate_string(node, env)
        except InterpolationError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
            return node
    return node


def interpolation_errors(raw: Compose, env: Mapping[str, str]) -> list[str]:
    errors: list[str] = []
    interpolate(raw, env, errors)
    return errors


def referenced_variables(raw: Compose) -> dict[str, bool]:
    """Every variable the document interpolates -> whether compose needs it set (no default)."""
    found: dict[str, bool] = {}
    for text in _strings(raw):
        for match in _INTERPOLATION.finditer(text):
            name = match.group("named") or match.group("braced")
            if name is None:
                continue
            op = match.group("op") or ""
            needed = op == "" or op.endswith("?")
            found[name] = found.get(name, False) or needed
    return found


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


# -- loading ------------------------------------------------------------------------------------


def load_raw() -> Compose:
    doc = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), "docker-compose.yml is not a mapping"
    return doc


def load(env: Mapping[str, str] = TEST_ENV) -> Compose:
    result: Compose = interpolate(load_raw(), env)
    return result


@pytest.fixture(scope="module")
def raw() -> Compose:
    return load_raw()


@pytest.fixture
def doc() -> Compose:
    return load()


def _services(doc: Compose) -> dict[str, dict[str, Any]]:
    services = doc.get("services") or {}
    return {name: svc or {} for name, svc in services.items()}


def _environment(svc: Mapping[str, Any]) -> dict[str, str | None]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {p[0]: (p[1] if len(p) > 1 else None) for p in pairs}
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def _is_driftline(svc: Mapping[str, Any]) -> bool:
    return "build" in svc or str(svc.get("image", "")).startswith("driftline")


def _is_one_shot(svc: Mapping[str, Any]) -> bool:
    return str(svc.get("restart", "no")) == "no"


def _depends_on(svc: Mapping[str, Any]) -> Any:
    return svc.get("depends_on") or {}


# -- checks -------------------------------------------------------------------------------------


def compose_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text("utf-8"))
    return schema


def schema_problems(doc: Compose) -> list[str]:
    """The Compose specification's JSON schema, with the validator its ``$schema`` names."""
    schema = compose_schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                for e in validator.iter_errors(doc)]
    if "version" in doc:
        problems.append("top-level `version` is obsolete in the Compose specification")
    return problems


def hardcoded_secret_problems(raw: Compose) -> list[str]:
    """Secrets come from the environment: no literal value for a *PASSWORD*/*SECRET*/*TOKEN*
    variable and no literal password inside a URL."""
    problems = []
    for name, svc in _services(raw).items():
        for key, value in _environment(svc).items():
            if SECRET_NAME.search(key) and value and not value.startswith("${"):
                problems.append(f"{name}: {key} is hard-coded; interpolate it from the environment")
    for text in _strings(raw):
        for match in re.finditer(r"://[^/\s:@]+:([^@\s]+)@", text):
            if not match.group(1).startswith("${"):
                problems.append(f"a URL holds a literal password: {text!r}")
    return problems


def service_problems(doc: Compose) -> list[str]:
    """The required services; profiles; Kafka in KRaft mode (no ZooKeeper anywhere)."""
    services = _services(doc)
    problems = [f"service {name!r} is missing" for name in REQUIRED_SERVICES
                if name not in services]
    for name, svc in services.items():
        profiles = svc.get("profiles")
        expected = PROFILED.get(name)
        if profiles != expected:
            problems.append(f"{name}: profiles {profiles!r}, expected {expected!r}")
    kafka_env = _environment(services.get("kafka", {}))
    roles = {r.strip() for r in (kafka_env.get("KAFKA_PROCESS_ROLES") or "").split(",")}
    if not {"broker", "controller"} <= roles:
        problems.append(f"kafka: KAFKA_PROCESS_ROLES {sorted(roles)} lacks broker or controller")
    if not kafka_env.get("KAFKA_CONTROLLER_QUORUM_VOTERS"):
        problems.append("kafka: KAFKA_CONTROLLER_QUORUM_VOTERS is not set")
    if "zookeeper" in yaml.safe_dump(doc).lower():
        problems.append("ZooKeeper is mentioned: the broker must run in KRaft mode")
    return problems


def topic_problems(doc: Compose) -> list[str]:
    """The topics the services read exist with several partitions: auto-creation is off and a
    one-shot ``kafka-topics.sh --create`` names both topics."""
    services = _services(doc)
    kafka_env = _environment(services.get("kafka", {}))
    problems = []
    if (kafka_env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") or "true").lower() != "false":
        problems.append("kafka: topic auto-creation is on (partition counts would be the "
                        "broker default)")
    creators = [(name, _command_text(svc)) for name, svc in services.items()
                if "kafka-topics.sh" in _command_text(svc) and "--create" in _command_text(svc)]
    if not creators:
        return [*problems, "no one-shot service creates the topics (kafka-topics.sh --create)"]
    defaults = Settings()
    for name, text in creators:
        if not _is_one_shot(services[name]):
            problems.append(f"{name}: creates topics but is not a one-shot (restart: \"no\")")
        for topic in (defaults.predictions_topic, defaults.feedback_topic):
            if topic not in text:
                problems.append(f"{name}: does not create topic {topic}")
        partitions = re.findall(r"--partitions[ =](\S+)", text)
        if not partitions or any(not p.isdigit() or int(p) < 2 for p in partitions):
            problems.append(f"{name}: --partitions {partitions}, expected several")
    return problems


def health_problems(doc: Compose) -> list[str]:
    """Every long-running service has a health check; Python checks compile."""
    problems = []
    for name, svc in _services(doc).items():
        check = svc.get("healthcheck")
        if _is_one_shot(svc):
            continue
        if not check or check.get("disable") or not check.get("test"):
            problems.append(f"{name}: no health check")
            continue
        test = check["test"]
        if isinstance(test, list) and test[:1] == ["NONE"]:
            problems.append(f"{name}: health check disabled")
        if isinstance(test, list) and len(test) >= 4 and test[:3] == ["CMD", "python", "-c"]:
            try:
                compile(test[3], f"<{name} healthcheck>", "exec")
            except SyntaxError as exc:
                problems.append(f"{name}: health check is not valid Python: {exc}")
    return problems


def dependency_problems(doc: Compose) -> list[str]:
    """Long-form ``depends_on`` only, on defined services, with a condition that fits the
    dependency (healthy for long-running ones, completed for one-shots); none on a profile."""
    services = _services(doc)
    problems = []
    for name, svc in services.items():
        deps = _depends_on(svc)
        if isinstance(deps, list):
            problems.append(f"{name}: depends_on in the short form (no condition)")
            continue
        for target, spec in deps.items():
            condition = (spec or {}).get("condition")
            if target not in services:
                problems.append(f"{name}: depends on undefined service {target!r}")
                continue
            if services[target].get("profiles"):
                problems.append(f"{name}: depends on {target!r}, which is only in a profile")
            if condition == "service_healthy":
                if not services[target].get("healthcheck"):
                    problems.append(f"{name}: waits for {target} to be healthy, "
                                    "which has no health check")
            elif condition == "service_completed_successfully":
                if not _is_one_shot(services[target]):
                    problems.append(f"{name}: waits for {target} to complete, "
                                    "which is not a one-shot")
            else:
                problems.append(f"{name}: depends on {target} with condition {condition!r}")
    return problems


def worker_problems(doc: Compose) -> list[str]:
    """The worker scales: no container name, no host port, replicas set."""
    worker = _services(doc).get("worker", {})
    problems = []
    if "container_name" in worker:
        problems.append("worker: container_name prevents scaling")
    if worker.get("ports"):
        problems.append("worker: a host port prevents scaling")
    if "replicas" not in (worker.get("deploy") or {}):
        problems.append("worker: deploy.replicas is not set")
    return problems


# -- driftline commands -------------------------------------------------------------------------

_SHELLS = frozenset({"sh", "/bin/sh", "bash", "/bin/bash"})
#: Shell expansions left after compose interpolation ($(cmd), $VAR, ${VAR}): runtime values,
#: replaced by "0", a value every numeric and string flag accepts.
_SHELL_EXPANSION = re.compile(r"\$\([^)]*\)|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _command_text(svc: Mapping[str, Any]) -> str:
    command = svc.get("command") or ""
    return command if isinstance(command, str) else " ".join(map(str, command))


def command_lines(command: str | list[str]) -> list[list[str]]:
    """The simple commands a service runs: its command, or each step of an ``sh -c`` script
    (split on newlines, ``&&``, ``||`` and ``;``; a leading ``exec`` dropped)."""
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if len(argv) >= 3 and argv[0] in _SHELLS and argv[1] == "-c":
        steps = []
        for part in re.split(r"&&|\|\||;|\n", argv[2]):
            text = _SHELL_EXPANSION.sub("0", part).strip()
            if not text:
                continue
            try:
                words = shlex.split(text)
            except ValueError:
                words = text.split()
            steps.append(words)
        argv_list = steps
    else:
        argv_list = [argv]
    return [words[1:] if words[:1] == ["exec"] else words for words in argv_list]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            choices: dict[str, argparse.ArgumentParser] = action.choices
            return choices
    return None


def cli_problems(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``argv`` (after ``driftline``) names a leaf command of the real parser, which accepts
    its flags."""
    shown = " ".join(["driftline", *argv])
    current, path, i = parser, ["driftline"], 0
    while (choices := _subcommands(current)) is not None:
        while i < len(argv) and argv[i].startswith("-"):  # options of this level
            action = current._option_string_actions.get(argv[i].split("=", 1)[0])
            takes_value = action is not None and action.nargs != 0 and "=" not in argv[i]
            i += 2 if takes_value else 1
        if i >= len(argv):
            return [f"`{shown}`: incomplete command, `{' '.join(path)}` needs one of "
                    f"{sorted(choices)}"]
        if argv[i] not in choices:
            return [f"`{shown}`: unknown command `{' '.join([*path, argv[i]])}` "
                    f"(known: {sorted(choices)})"]
        current, path, i = choices[argv[i]], [*path, argv[i]], i + 1
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as exc:
        message = stderr.getvalue().strip().splitlines()
        return [f"`{shown}`: rejected by the parser (exit {exc.code}): "
                f"{message[-1] if message else 'help or version printed'}"]
    return []


def command_problems(doc: Compose) -> list[str]:
    """Every ``driftline`` command any service runs exists, flags included; driftline services
    always say what they run (the image's default command is not relied on)."""
    problems = []
    for name, svc in _services(doc).items():
        command = svc.get("command")
        if command is None:
            if _is_driftline(svc):
                problems.append(f"{name}: driftline service without a command")
            continue
        for words in command_lines(command):
            if words[:1] == ["driftline"]:
                problems.extend(f"{name}: {p}" for p in cli_problems(words[1:], build_parser()))
    return problems


# -- settings and wiring ------------------------------------------------------------------------


def settings_problems(doc: Compose) -> list[str]:
    """Driftline services set only real settings (plus a short allow-list), values parse, and no
    ``env_file`` hands them unrelated secrets."""
    known = set(Settings.env_names())
    problems = []
    for name, svc in _services(doc).items():
        if not _is_driftline(svc):
            continue
        if svc.get("env_file"):
            problems.append(f"{name}: env_file passes every variable in it to the service")
        env = _environment(svc)
        for key in env:
            if key.startswith("DRIFTLINE_"):
                if key not in known:
                    problems.append(f"{name}: {key} is not a setting of monitor.settings.Settings")
            elif key not in ALLOWED_EXTRA_ENV:
                problems.append(f"{name}: {key} is neither a DRIFTLINE_* setting nor allowed")
        try:
            Settings.from_env({k: v for k, v in env.items() if v is not None})
        except SettingsError as exc:
            problems.append(f"{name}: {exc}")
    return problems


def _listeners(value: str | None) -> set[str]:
    """``NAME://host:port,...`` -> {"host:port"}."""
    return {item.split("://", 1)[1] for item in (value or "").split(",") if "://" in item}


def wiring_problems(doc: Compose) -> list[str]:
    """What the driftline services connect to exists: the database URL names the postgres
    service with its user, password and database; the bootstrap servers are advertised by the
    broker."""
    services = _services(doc)
    pg_env = _environment(services.get("postgres", {}))
    advertised = _listeners(_environment(services.get("kafka", {})).get(
        "KAFKA_ADVERTISED_LISTENERS"))
    problems = []
    for name, svc in services.items():
        if not _is_driftline(svc):
            continue
        env = _environment(svc)
        url = make_url(env.get("DRIFTLINE_DATABASE_URL") or Settings().database_url)
        expected = {"host": "postgres", "port": 5432,
                    "username": pg_env.get("POSTGRES_USER", "postgres"),
                    "password": pg_env.get("POSTGRES_PASSWORD"),
                    "database": pg_env.get("POSTGRES_DB") or pg_env.get("POSTGRES_USER")}
        for attr, want in expected.items():
            got = getattr(url, attr)
            if got != want:
                shown = "***" if attr == "password" else repr(got)
                problems.append(f"{name}: DRIFTLINE_DATABASE_URL {attr} {shown} does not match "
                                "the postgres service")
        servers = env.get("DRIFTLINE_KAFKA_BOOTSTRAP_SERVERS") or Settings().kafka_bootstrap_servers
        for server in servers.split(","):
            if server.strip() not in advertised:
                problems.append(f"{name}: bootstrap server {server!r} is not advertised by kafka "
                                f"({sorted(advertised)})")
    return problems


# -- Grafana ------------------------------------------------------------------------------------


def _bind_mounts(svc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(host source, container target) of the bind mounts with a relative host path."""
    mounts = []
    for volume in svc.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = str(volume.get("source", "")), str(volume.get("target", ""))
        else:
            source, _, rest = str(volume).partition(":")
            target = rest.split(":", 1)[0]
        if source.startswith(("./", "../")):
            mounts.append((source, target))
    return mounts


_GRAFANA_ENV_REF = re.compile(r"\$(?:__env\{(\w+)\}|\{(\w+)\}|([A-Za-z_]\w*))")


def grafana_variables(text: str) -> set[str]:
    """Environment variables a Grafana provisioning file uses (``$VAR``, ``${VAR}``,
    ``$__env{VAR}``; ``$$`` is a literal dollar).

    >>> sorted(grafana_variables("a: ${A}\\nb: $B\\nc: $__env{C}\\nd: $$D"))
    ['A', 'B', 'C']
    """
    text = text.replace("$$", "")
    return {next(g for g in m.groups() if g) for m in _GRAFANA_ENV_REF.finditer(text)}


def grafana_problems(doc: Compose, root: Path = ROOT) -> list[str]:
    """The provisioning mounts exist with at least one YAML file each, the datasource files'
    variables are in Grafana's environment, and the dashboard provider reads a mounted path."""
    grafana = _services(doc).get("grafana", {})
    mounts = _bind_mounts(grafana)
    problems = []
    for source, _ in mounts:
        if not (root / source).exists():
            problems.append(f"grafana: mount source {source} does not exist")
    targets = {target: root / source for source, target in mounts}
    provisioning = {kind: targets.get(f"/etc/grafana/provisioning/{kind}")
                    for kind in ("datasources", "dashboards")}
    yaml_files: dict[str, list[Path]] = {}
    for kind, directory in provisioning.items():
        files = (sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
                 if directory is not None and directory.is_dir() else [])
        if not files:
            problems.append(f"grafana: no {kind} provisioning YAML mounted at "
                            f"/etc/grafana/provisioning/{kind}")
        yaml_files[kind] = files
    env = _environment(grafana)
    for path in yaml_files["datasources"]:
        # Grafana expands variables in the parsed values (not in comments).
        values = _strings(yaml.safe_load(path.read_text(encoding="utf-8")))
        for var in sorted(set().union(*map(grafana_variables, values))):
            if var not in env:
                problems.append(f"grafana: {path.relative_to(root)} uses ${var}, which is not "
                                "in the grafana service's environment")
    for path in yaml_files["dashboards"]:
        providers = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("providers")
        for provider in providers or []:
            wanted = str((provider.get("options") or {}).get("path", "")).rstrip("/")
            if not any(wanted == t or wanted.startswith(t + "/") for t in targets):
                problems.append(f"grafana: provider {provider.get('name')!r} reads {wanted}, "
                                "which no volume mounts")
    return problems


def env_example_problems(raw: Compose, env_example: str) -> list[str]:
    """``.env.example`` assigns every variable compose needs (no default) and mentions every
    other one it interpolates (commented out is fine)."""
    assigned = set(re.findall(r"^\s*([A-Za-z_]\w*)=", env_example, re.MULTILINE))
    mentioned = set(re.findall(r"^\s*#?\s*([A-Za-z_]\w*)=", env_example, re.MULTILINE))
    problems = []
    for name, needed in sorted(referenced_variables(raw).items()):
        if needed and name not in assigned:
            problems.append(f".env.example does not set {name}, which compose requires")
        elif name not in mentioned:
            problems.append(f".env.example does not mention {name}")
    return problems


# -- the real file ------------------------------------------------------------------------------

CHECKS: dict[str, Callable[[Compose], list[str]]] = {
    "schema": schema_problems,
    "services": service_problems,
    "topics": topic_problems,
    "health": health_problems,
    "dependencies": dependency_problems,
    "worker": worker_problems,
    "commands": command_problems,
    "settings": settings_problems,
    "wiring": wiring_problems,
    "grafana": grafana_problems,
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_compose_file_passes(check: str, doc: Compose) -> None:
    assert CHECKS[check](doc) == []


def test_secrets_come_from_the_environment(raw: Compose) -> None:
    errors = interpolation_errors(raw, {})
    for secret in REQUIRED_SECRETS:
        assert any(secret in e for e in errors), f"{secret} is not required by compose"
    assert interpolation_errors(raw, TEST_ENV) == []
    assert hardcoded_secret_problems(raw) == []
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for value in TEST_ENV.values():
        assert value not in text


def test_env_example_names_the_variables(raw: Compose) -> None:
    assert env_example_problems(raw, ENV_EXAMPLE.read_text(encoding="utf-8")) == []


def test_the_simulator_streams_to_kafka_with_drift(doc: Compose) -> None:
    """The last simulator step produces to Kafka (no --out), paced, with drift injected."""
    steps = command_lines(_services(doc)["simulator"]["command"])
    last = steps[-1]
    args = build_parser().parse_args(last[1:])
    assert args.command == "simulate"
    assert args.out is None
    assert args.pace is not None
    assert args.drift_at is not None


# -- every check can fail -----------------------------------------------------------------------


def _mutated(change: Callable[[Compose], object]) -> Compose:
    doc = copy.deepcopy(load())
    change(doc)
    return doc


def _svc(doc: Compose, name: str) -> dict[str, Any]:
    service: dict[str, Any] = doc["services"][name]
    return service


def test_interpolation_rules() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate_string("${SET}-${UNSET}-$SET", env) == "v--v"
    assert interpolate_string("${EMPTY:-d}|${EMPTY-d}|${UNSET-d}", env) == "d||d"
    assert interpolate_string("${SET:+r}|${EMPTY:+r}|${EMPTY+r}", env) == "r||r"
    assert interpolate_string("$$SET costs $${SET}", env) == "$SET costs ${SET}"
    assert interpolate_string("${EMPTY?e}", env) == ""
    with pytest.raises(InterpolationError, match="EMPTY"):
        interpolate_string("${EMPTY:?e}", env)
    with pytest.raises(InterpolationError, match="UNSET"):
        interpolate_string("${UNSET?e}", env)
    with pytest.raises(InterpolationError, match="invalid"):
        interpolate_string("costs $5", env)


def test_schema_check_fails() -> None:
    doc = _mutated(lambda d: _svc(d, "api").update(restart_policy="always"))
    assert any("restart_policy" in p for p in schema_problems(doc))
    doc = _mutated(lambda d: _svc(d, "worker")["deploy"].update(replicas=[2]))
    assert any("replicas" in p for p in schema_problems(doc))
    doc = _mutated(lambda d: d.update(version="3.8"))
    assert any("version" in p for p in schema_problems(doc))


def test_secret_checks_fail(raw: Compose) -> None:
    doc = copy.deepcopy(raw)
    _svc(doc, "postgres")["environment"]["POSTGRES_PASSWORD"] = "hunter2"
    _svc(doc, "grafana")["environment"]["GF_SECURITY_ADMIN_PASSWORD"] = (
        "${GRAFANA_ADMIN_PASSWORD:-admin}")
    assert hardcoded_secret_problems(doc) == [
        "postgres: POSTGRES_PASSWORD is hard-coded; interpolate it from the environment"]
    assert not any("GRAFANA_ADMIN_PASSWORD" in e for e in interpolation_errors(doc, {}))
    _svc(doc, "api")["environment"]["DRIFTLINE_DATABASE_URL"] = "postgresql://u:pw@postgres/db"
    assert any("literal password" in p for p in hardcoded_secret_problems(doc))


def test_service_check_fails() -> None:
    doc = _mutated(lambda d: d["services"].pop("grafana"))
    assert "service 'grafana' is missing" in service_problems(doc)
    doc = _mutated(lambda d: _svc(d, "simulator").pop("profiles"))
    assert any(p.startswith("simulator: profiles None") for p in service_problems(doc))
    doc = _mutated(lambda d: _svc(d, "kafka")["environment"].update(KAFKA_PROCESS_ROLES="broker"))
    assert any("lacks broker or controller" in p for p in service_problems(doc))
    doc = _mutated(lambda d: d["services"].update(zookeeper={"image": "zookeeper:3.9"}))
    assert any("ZooKeeper" in p for p in service_problems(doc))


def test_topic_check_fails() -> None:
    doc = _mutated(lambda d: _svc(d, "kafka")["environment"].pop("KAFKA_AUTO_CREATE_TOPICS_ENABLE"))
    assert any("auto-creation is on" in p for p in topic_problems(doc))

    def one_partition(d: Compose) -> None:
        init = _svc(d, "kafka-init")
        init["command"] = [re.sub(r"--partitions \S+", "--partitions 1", str(part))
                           for part in init["command"]]

    assert any("--partitions ['1'" in p for p in topic_problems(_mutated(one_partition)))
    doc = _mutated(lambda d: d["services"].pop("kafka-init"))
    assert any("no one-shot service creates the topics" in p for p in topic_problems(doc))


def test_health_check_fails() -> None:
    doc = _mutated(lambda d: _svc(d, "worker").pop("healthcheck"))
    assert health_problems(doc) == ["worker: no health check"]
    doc = _mutated(lambda d: _svc(d, "api")["healthcheck"].update(
        test=["CMD", "python", "-c", "import urllib.request; urlopen("]))
    assert any("not valid Python" in p for p in health_problems(doc))


def test_dependency_check_fails() -> None:
    doc = _mutated(lambda d: _svc(d, "api").update(depends_on=["postgres", "migrate"]))
    assert dependency_problems(doc) == ["api: depends_on in the short form (no condition)"]
    doc = _mutated(lambda d: _svc(d, "api")["depends_on"].update(postgres={}))
    assert dependency_problems(doc) == ["api: depends on postgres with condition None"]
    doc = _mutated(lambda d: _svc(d, "api")["depends_on"].update(
        postgres={"condition": "service_started"}))
    assert dependency_problems(doc) == ["api: depends on postgres with condition "
                                        "'service_started'"]
    doc = _mutated(lambda d: _svc(d, "api")["depends_on"].update(
        simulator={"condition": "service_healthy"}))
    assert dependency_problems(doc) == [
        "api: depends on 'simulator', which is only in a profile"]
    doc = _mutated(lambda d: _svc(d, "api")["depends_on"].update(
        redis={"condition": "service_healthy"}))
    assert dependency_problems(doc) == ["api: depends on undefined service 'redis'"]
    doc = _mutated(lambda d: _svc(d, "api")["depends_on"].update(
        migrate={"condition": "service_healthy"}))
    assert dependency_problems(doc) == [
        "api: waits for migrate to be healthy, which has no health check"]
    doc = _mutated(lambda d: _svc(d, "api")["depends_on"].update(
        kafka={"condition": "service_completed_successfully"}))
    assert dependency_problems(doc) == [
        "api: waits for kafka to complete, which is not a one-shot"]


def test_worker_check_fails() -> None:
    def pinned(d: Compose) -> None:
        worker = _svc(d, "worker")
        worker.update(container_name="driftline-worker", ports=["9000:9000"])
        worker.pop("deploy")

    assert worker_problems(_mutated(pinned)) == [
        "worker: container_name prevents scaling", "worker: a host port prevents scaling",
        "worker: deploy.replicas is not set"]


def test_command_lines() -> None:
    assert command_lines(["driftline", "worker"]) == [["driftline", "worker"]]
    assert command_lines("driftline serve --port 8000") == [["driftline", "serve", "--port",
                                                             "8000"]]
    script = "set -e\ndriftline db upgrade && exec driftline simulate --seed \"$(date +%s)\"; ls"
    assert command_lines(["sh", "-c", script]) == [
        ["set", "-e"], ["driftline", "db", "upgrade"], ["driftline", "simulate", "--seed", "0"],
        ["ls"]]


def test_command_check_fails() -> None:
    parser = build_parser()
    assert cli_problems(["db", "upgrade"], parser) == []
    assert cli_problems(["--database-url", "sqlite://", "reference", "set", "m", "f.jsonl"],
                        parser) == []
    assert cli_problems(["frobnicate"], parser)[0].startswith(
        "`driftline frobnicate`: unknown command `driftline frobnicate`")
    assert "unknown command `driftline db downgrade`" in cli_problems(["db", "downgrade"],
                                                                      parser)[0]
    assert "incomplete command" in cli_problems(["db"], parser)[0]
    assert "unrecognized arguments: --turbo" in cli_problems(["worker", "--turbo"], parser)[0]
    assert "invalid int value" in cli_problems(["serve", "--port", "http"], parser)[0]
    assert "help or version printed" in cli_problems(["serve", "--help"], parser)[0]

    doc = _mutated(lambda d: _svc(d, "worker").update(command=["driftline", "frobnicate"]))
    assert [p.split(":")[0] for p in command_problems(doc)] == ["worker"]

    def bad_step(d: Compose) -> None:
        sim = _svc(d, "simulator")
        sim["command"] = [*sim["command"][:2], sim["command"][2].replace("--drift-shift",
                                                                         "--drift-shfit")]

    assert any("--drift-shfit" in p for p in command_problems(_mutated(bad_step)))
    doc = _mutated(lambda d: _svc(d, "api").pop("command"))
    assert command_problems(doc) == ["api: driftline service without a command"]


def test_settings_check_fails() -> None:
    doc = _mutated(lambda d: _svc(d, "api")["environment"].update(DRIFTLINE_FOO="1"))
    assert settings_problems(doc) == [
        "api: DRIFTLINE_FOO is not a setting of monitor.settings.Settings"]
    doc = _mutated(lambda d: _svc(d, "worker")["environment"].update(POSTGRES_PASSWORD="x"))
    assert settings_problems(doc) == [
        "worker: POSTGRES_PASSWORD is neither a DRIFTLINE_* setting nor allowed"]
    doc = _mutated(lambda d: _svc(d, "worker")["environment"].update(
        DRIFTLINE_RETRAINING_KILL_SWITCH=""))
    assert any("DRIFTLINE_RETRAINING_KILL_SWITCH: expected bool" in p
               for p in settings_problems(doc))
    doc = _mutated(lambda d: _svc(d, "api").update(env_file=".env"))
    assert settings_problems(doc) == [
        "api: env_file passes every variable in it to the service"]


def test_wiring_check_fails() -> None:
    doc = _mutated(lambda d: _svc(d, "api")["environment"].update(
        DRIFTLINE_DATABASE_URL="postgresql+psycopg://driftline:pg-test-password@postgres:5432/dl"))
    assert wiring_problems(doc) == [
        "api: DRIFTLINE_DATABASE_URL database 'dl' does not match the postgres service"]
    doc = _mutated(lambda d: _svc(d, "worker")["environment"].update(
        DRIFTLINE_KAFKA_BOOTSTRAP_SERVERS="localhost:9092"))
    assert [p.split(":")[0] for p in wiring_problems(doc)] == ["worker"]


def test_grafana_check_fails(tmp_path: Path) -> None:
    doc = load()
    assert any("does not exist" in p for p in grafana_problems(doc, tmp_path))

    root = tmp_path / "repo"
    for source, _ in _bind_mounts(_svc(doc, "grafana")):
        (root / source).mkdir(parents=True)
    problems = grafana_problems(doc, root)
    assert any("no datasources provisioning YAML" in p for p in problems)
    assert any("no dashboards provisioning YAML" in p for p in problems)

    (root / "dashboards/provisioning/datasources/ds.yaml").write_text(
        "datasources:\n  - url: ${REPORTING_DB_HOST}\n    password: $__env{NOT_PASSED}\n")
    (root / "dashboards/provisioning/dashboards/p.yaml").write_text(
        "providers:\n  - name: elsewhere\n    options:\n      path: /srv/dashboards\n")
    assert grafana_problems(doc, root) == [
        "grafana: dashboards/provisioning/datasources/ds.yaml uses $NOT_PASSED, which is not in "
        "the grafana service's environment",
        "grafana: provider 'elsewhere' reads /srv/dashboards, which no volume mounts"]


def test_env_example_check_fails(raw: Compose) -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    without = re.sub(r"^GRAFANA_ADMIN_PASSWORD=.*$", "# GRAFANA_ADMIN_PASSWORD=", text,
                     flags=re.MULTILINE)
    assert env_example_problems(raw, without) == [
        ".env.example does not set GRAFANA_ADMIN_PASSWORD, which compose requires"]
    without = re.sub(r"^.*KAFKA_TOPIC_PARTITIONS=.*$", "", text, flags=re.MULTILINE)
    assert env_example_problems(raw, without) == [
        ".env.example does not mention KAFKA_TOPIC_PARTITIONS"]
