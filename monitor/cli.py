"""The ``driftline`` command line (CONTRACT section 4)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from monitor.settings import Settings, get_settings


def _settings(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    changes: dict[str, Any] = {}
    for name in ("database_url", "kafka_bootstrap_servers", "consumer_group",
                 "predictions_topic", "feedback_topic"):
        value = getattr(args, name, None)
        if value:
            changes[name] = value
    return settings.replace(**changes) if changes else settings


def _fail(message: str) -> int:
    print(f"driftline: error: {message}", file=sys.stderr)
    return 2


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from monitor.db.engine import make_engine
    from monitor.db.migrate import upgrade
    from monitor.db.reporting import configure_role

    settings = _settings(args)
    upgrade(settings.database_url)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    print(f"database at head: {shown}")
    engine = make_engine(settings.database_url)
    try:
        for line in configure_role(engine, settings.reporting_password,
                                   settings.reporting_statement_timeout_ms):
            print(line)
    finally:
        engine.dispose()
    return 0


def _engine(args: argparse.Namespace) -> Any:
    from monitor.db.engine import make_engine

    return make_engine(_settings(args).database_url)


def cmd_models_apply(args: argparse.Namespace) -> int:
    from monitor.config import ConfigError, load_config_file
    from monitor.db import repository

    try:
        config = load_config_file(args.file)
    except ConfigError as exc:
        return _fail(f"{args.file}: invalid model configuration, nothing applied:\n  "
                     + "\n  ".join(f"{loc}: {msg}" for loc, msg in exc.errors))
    except OSError as exc:
        return _fail(str(exc))
    try:
        with _engine(args).begin() as conn:
            created = repository.upsert_model(conn, config)
    except ConfigError as exc:
        return _fail(f"{args.file}: invalid model configuration, nothing applied: {exc}")
    print(f"model {config.model_id} {'created' if created else 'updated'}")
    return 0


def cmd_reference_set(args: argparse.Namespace) -> int:
    from monitor.db import repository
    from monitor.reference import ReferenceError, read_reference_file

    engine = _engine(args)
    with engine.begin() as conn:
        config = repository.get_model(conn, args.model_id)
        if config is None:
            return _fail(f"unknown model {args.model_id!r}: apply its configuration first")
        try:
            cols = read_reference_file(config, Path(args.file))
        except (ReferenceError, OSError) as exc:
            return _fail(f"{args.file}: {exc}")
        info = repository.set_reference(conn, config, cols, source=str(args.file))
    print(f"reference v{info.version} for {args.model_id}: {info.n_rows:,} rows")
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    from monitor.keys import create_key

    try:
        with _engine(args).begin() as conn:
            key = create_key(conn, args.scope, name=args.name or "")
    except ValueError as exc:
        return _fail(str(exc))
    print(key)
    print(f"scopes: {', '.join(args.scope)} (the key is shown once; only its hash is stored)",
          file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from monitor.api.app import create_app

    settings = _settings(args)
    uvicorn.run(create_app(settings), host=args.host or settings.api_host,
                port=args.port or settings.api_port, log_level="info")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from monitor.worker import main

    return main(_settings(args), relay=not args.no_relay)


def cmd_relay(args: argparse.Namespace) -> int:
    """Only the notifier and outbox relay (when workers run with ``--no-relay``)."""
    import signal
    import threading

    from monitor.db.engine import make_engine
    from monitor.relay import RelayThread

    settings = _settings(args)
    thread = RelayThread(make_engine(settings.database_url), settings)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    thread.start()
    done.wait(args.duration)
    thread.stop()
    thread.join(timeout=15)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from monitor.backtest import run_backtest, summarize, write_outputs
    from monitor.config import ConfigError, load_config_file
    from monitor.reference import ReferenceError

    engine = None
    if args.into_database:
        from monitor.db.migrate import current_revision, head_revision

        engine = _engine(args)
        if current_revision(engine) != head_revision():
            return _fail("--into-database: the database is not at the latest schema; "
                         "run `driftline db upgrade` first")
    try:
        config = load_config_file(args.config)
        result = run_backtest(config, Path(args.reference) if args.reference else None,
                              Path(args.predictions),
                              Path(args.feedback) if args.feedback else None,
                              progress=sys.stderr, engine=engine)
    except ConfigError as exc:
        return _fail(f"{args.config}: {exc}")
    except (ReferenceError, OSError) as exc:
        return _fail(str(exc))
    write_outputs(result, Path(args.out))
    summarize(result)
    print(f"wrote {args.out}/metrics.jsonl, alerts.jsonl, triggers.jsonl, dead_letters.jsonl")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from monitor.simulate_cli import run

    return run(args, _settings(args))


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return run_demo(duration_s=args.duration, workdir=Path(args.workdir), seed=args.seed)


def _grafana_target(args: argparse.Namespace, settings: Settings) -> tuple[str, str]:
    """The Grafana URL and token of ``dashboards push``; the token is ``--token-file``'s first
    line, else ``--token``, else ``DRIFTLINE_GRAFANA_TOKEN``."""
    from monitor.grafana_push import DashboardsError

    url = str(args.grafana_url or settings.grafana_url)
    if not url:
        raise DashboardsError("no Grafana URL: set DRIFTLINE_GRAFANA_URL or pass --grafana-url")
    if args.no_datasource and (args.datasource_url or args.datasource_database
                               or args.update_password):
        raise DashboardsError("--no-datasource leaves the datasource alone: drop "
                              "--datasource-url, --datasource-database and --update-password")
    if args.token_file:
        try:
            lines = Path(args.token_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DashboardsError(f"cannot read the token file: {exc}") from None
        token = lines[0].strip() if lines else ""
    else:
        token = str(args.token or settings.grafana_token).strip()
    if not token:
        raise DashboardsError("no Grafana API token: set DRIFTLINE_GRAFANA_TOKEN or pass "
                              "--token-file (or --token)")
    return url, token


def cmd_dashboards_push(args: argparse.Namespace) -> int:
    from dashboards.catalog import FOLDER_UID, JSON_DIR, dashboard_json
    from monitor.grafana_push import (
        DashboardsError,
        close,
        connect,
        datasource_from_settings,
        push,
    )

    settings = _settings(args)
    try:
        url, token = _grafana_target(args, settings)
        models = dashboard_json()
        if not models:
            raise DashboardsError(f"no dashboards to push under {JSON_DIR}")
        datasource = None if args.no_datasource else datasource_from_settings(
            settings, args.datasource_url, args.datasource_database)
        api = connect(url, token, timeout=args.timeout)
        try:
            result = push(api, models, datasource, folder_uid=args.folder_uid or FOLDER_UID,
                          progress=sys.stdout, update_password=args.update_password)
        finally:
            close(api)
    except DashboardsError as exc:
        return _fail(str(exc))
    print(f"pushed to {url}: {result.summary()}")
    return 0


def cmd_dashboards_export(args: argparse.Namespace) -> int:
    from monitor.grafana_push import DashboardsError, export

    try:
        written = export(Path(args.dir), force=args.force, progress=sys.stdout)
    except DashboardsError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"export to {args.dir}: {exc}")
    print(f"exported to {args.dir}: {len(written)} file(s) written")
    return 0


def _add_dashboards(sub: Any, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds ``dashboards push`` and ``dashboards export``; returns ``parser``."""
    dash = sub.add_parser("dashboards", help="Grafana dashboards: push to a Grafana, or export")
    dash_sub = dash.add_subparsers(dest="dashboards_command", required=True)
    push = dash_sub.add_parser(
        "push", help="create or update the folder, datasource and dashboards in a Grafana "
                     "(idempotent: writes only what differs)")
    push.add_argument("--grafana-url", help="e.g. http://localhost:3000 "
                                            "(default: DRIFTLINE_GRAFANA_URL)")
    token = push.add_mutually_exclusive_group()
    token.add_argument("--token", help="service account token (default: "
                                       "DRIFTLINE_GRAFANA_TOKEN; visible in the process list, "
                                       "prefer the variable or --token-file)")
    token.add_argument("--token-file", help="read the token from the first line of this file")
    push.add_argument("--datasource-url", help="host:port of PostgreSQL as Grafana reaches it "
                      "(default: DRIFTLINE_GRAFANA_DATASOURCE_URL, else the database URL's)")
    push.add_argument("--datasource-database",
                      help="database name (default: the database URL's)")
    push.add_argument("--no-datasource", action="store_true",
                      help="leave the datasource alone (e.g. provisioned from files)")
    push.add_argument("--update-password", action="store_true",
                      help="send DRIFTLINE_REPORTING_PASSWORD even when nothing else of the "
                           "datasource changed (Grafana never returns it to compare)")
    push.add_argument("--folder-uid", help="folder for the dashboards (default: driftline)")
    push.add_argument("--timeout", type=float, default=10.0,
                      help="seconds per request (default 10)")
    push.set_defaults(func=cmd_dashboards_push)
    export = dash_sub.add_parser(
        "export", help="write the dashboards (<uid>.json) and provisioning files to DIR")
    export.add_argument("dir", metavar="DIR")
    export.add_argument("--force", action="store_true",
                        help="overwrite files that differ from the dashboards")
    export.set_defaults(func=cmd_dashboards_export)
    return parser


def _add_relay(sub: Any) -> None:
    relay = sub.add_parser("relay", help="deliver notifications and retraining triggers only")
    relay.add_argument("--duration", type=float, default=None,
                       help="stop after this many seconds (default: run until stopped)")
    relay.set_defaults(func=cmd_relay)


def _add_demo(sub: Any) -> None:
    demo = sub.add_parser("demo", help="everything embedded, with simulated traffic and drift")
    demo.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    demo.add_argument("--workdir", default=".driftline/demo")
    demo.add_argument("--seed", type=int, default=None,
                      help="seed of the simulated traffic (default: from the clock; printed)")
    demo.set_defaults(func=cmd_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="driftline", description=__doc__)
    parser.add_argument("--database-url", dest="database_url",
                        help="overrides DRIFTLINE_DATABASE_URL")
    parser.add_argument("--bootstrap-servers", dest="kafka_bootstrap_servers",
                        help="overrides DRIFTLINE_KAFKA_BOOTSTRAP_SERVERS")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    _add_demo(sub)

    serve = sub.add_parser("serve", help="the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="the Kafka consumers")
    worker.add_argument("--group", dest="consumer_group")
    worker.add_argument("--no-relay", action="store_true",
                        help="do not deliver notifications and triggers from this process")
    worker.set_defaults(func=cmd_worker)

    _add_relay(sub)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="Alembic migrations to head").set_defaults(
        func=cmd_db_upgrade)

    models = sub.add_parser("models", help="model configurations")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    apply = models_sub.add_parser("apply", help="register or update a model from YAML/JSON")
    apply.add_argument("file")
    apply.set_defaults(func=cmd_models_apply)

    ref = sub.add_parser("reference", help="reference data")
    ref_sub = ref.add_subparsers(dest="reference_command", required=True)
    ref_set = ref_sub.add_parser("set", help="set reference data (JSONL, JSON, CSV, Parquet)")
    ref_set.add_argument("model_id")
    ref_set.add_argument("file")
    ref_set.set_defaults(func=cmd_reference_set)

    keys = sub.add_parser("keys", help="API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key (printed once)")
    create.add_argument("--scope", action="append", required=True,
                        choices=["read", "write", "trigger", "admin"])
    create.add_argument("--name")
    create.set_defaults(func=cmd_keys_create)

    sim = sub.add_parser("simulate", help="produce synthetic traffic to Kafka or files")
    from monitor.simulate_cli import add_arguments

    add_arguments(sim)
    sim.set_defaults(func=cmd_simulate)

    bt = sub.add_parser("backtest", help="the service's computation over files")
    bt.add_argument("--config", required=True)
    bt.add_argument("--reference")
    bt.add_argument("--predictions", required=True)
    bt.add_argument("--feedback")
    bt.add_argument("--out", required=True)
    bt.add_argument("--into-database", action="store_true",
                    help="also register the model and write every result into the database "
                         "(DRIFTLINE_DATABASE_URL or --database-url), for the API and Grafana")
    bt.set_defaults(func=cmd_backtest)
    return _add_dashboards(sub, parser)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else get_settings().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
