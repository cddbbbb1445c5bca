"""Operator commands: ``migrate``, ``users``, ``keys``, ``accounts`` and ``replay``."""

from __future__ import annotations

import argparse
import getpass
import itertools
import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.util import CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from alphintra.app.config import ConfigError, Settings, load_settings
from alphintra.app.venue_config import VenueSettingsError, account_links
from alphintra.domain.account import AccountState
from alphintra.domain.events import AuditRecorded, OrderFilled
from alphintra.domain.identifiers import AccountId, VenueId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.engine.engine import TradingEngine
from alphintra.security import (
    CredentialVault,
    MasterKey,
    MasterKeyError,
    Role,
    generate_api_key,
    hash_password,
)
from alphintra.store import schema
from alphintra.store.directory import Directory, engine_url
from alphintra.store.journal import (
    EventRow,
    Journal,
    JournalError,
    JournalRecord,
    JournalUrlError,
    open_journal,
    record_of,
    redact_url,
)
from alphintra.store.migrate import current, upgrade
from alphintra.store.verify import (
    AuditRow,
    FillIndexRow,
    ProblemKind,
    VerificationProblem,
    check_audit_log,
    check_fill_index,
    verify,
)
from alphintra.venues.simulated.matching import SIMULATED_CAPABILITIES

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def add_admin_parsers(commands: Any) -> None:
    """Register the operator subcommands on the CLI's subparsers."""
    migrate = commands.add_parser("migrate", help="create or upgrade the database tables")
    migrate.add_argument("--database-url", default=None)

    users = commands.add_parser("users", help="manage users")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = users_sub.add_parser("add", help="create a user")
    add.add_argument("user_id")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument(
        "--password-stdin", action="store_true", help="read a password (for JWT login) from stdin"
    )
    users_sub.add_parser("list", help="list users").add_argument("--json", action="store_true")

    keys = commands.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = keys_sub.add_parser("create", help="create an API key (printed once)")
    create.add_argument("user_id")
    create.add_argument("--label", default="")
    revoke = keys_sub.add_parser("revoke", help="revoke an API key by its ID")
    revoke.add_argument("key_id")

    accounts = commands.add_parser("accounts", help="manage trading accounts")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    account_add = accounts_sub.add_parser("add", help="create a trading account")
    account_add.add_argument("account_id")
    account_add.add_argument("--owner", required=True)
    account_add.add_argument(
        "--venue", default="SIM", help="SIM, or a venue connection of ALPHINTRA_VENUES"
    )
    account_add.add_argument(
        "--credentials-stdin",
        action="store_true",
        help="read the venue credentials (a JSON object) from stdin; stored encrypted "
        "under ALPHINTRA_MASTER_KEY",
    )
    account_add.add_argument("--currency", default="USD")
    account_add.add_argument("--starting-cash", default="1000000")

    replay = commands.add_parser(
        "replay", help="rebuild an account from its journal and verify the hash chain"
    )
    replay.add_argument("account_id")
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.add_argument(
        "--recorded-head",
        type=_head,
        metavar="SEQ:HASH",
        help="a head printed by an earlier replay and kept outside this database: the "
        "stream must still hold that event with that hash (it may have grown since); "
        "catches events cut from the end or a rewritten stream",
    )

    for sub in (
        *users_sub.choices.values(),
        *keys_sub.choices.values(),
        *accounts_sub.choices.values(),
        replay,
    ):
        sub.add_argument("--database-url", default=None, help="default: DATABASE_URL")


def _head(text: str) -> tuple[int, bytes]:
    seq, sep, digest = text.partition(":")
    try:
        if not sep or not seq.isdigit() or int(seq) < 1:
            raise ValueError
        value = (int(seq), bytes.fromhex(digest))
        if len(value[1]) != 32:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected SEQ:HASH (a seq from 1 and 64 hex digits, as replay prints), got {text!r}"
        ) from None
    return value


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(None, database_url=getattr(args, "database_url", None))


DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa.exc.SQLAlchemyError,
    JournalError,
    CommandError,
    sqlite3.Error,
)
"""What opening, migrating or reading the database can raise (see `database_error`)."""
_ADMIN_ERRORS: tuple[type[Exception], ...] = (*DATABASE_ERRORS, OSError)  # OSError: a folder


def database_error(exc: Exception, url: str) -> tuple[int, str]:
    """Return the exit code and the one-line message of a `DATABASE_ERRORS` error.

    A URL that names no known database is bad input (2); anything else is a failure
    (1). The URL is shown with its password redacted.
    """
    if isinstance(exc, sa.exc.ArgumentError | JournalUrlError):
        return EXIT_BAD_INPUT, f"bad database URL {redact_url(url)!r}: {exc}"
    text = str(getattr(exc, "orig", None) or exc)
    detail = text.splitlines()[0] if text else ""
    return (
        EXIT_FAILURE,
        f"cannot use the database at {redact_url(url)!r}: {type(exc).__name__}: {detail}",
    )


def _fail(args: argparse.Namespace, code: int, message: str) -> int:
    """Write ``message`` as one error line (and as JSON on stdout under --json)."""
    message = " ".join(message.split())
    sys.stderr.write(f"error: {message}\n")
    if getattr(args, "json", False):
        print(json.dumps({"error": message, "exitCode": code}))
    return code


def _sqlite_missing(url: str) -> Path | None:
    """Return the file of a ``sqlite:///`` URL if it does not exist, else None."""
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///").partition("?")[0])
    return None if str(path) == ":memory:" or path.exists() else path


def run_admin_command(args: argparse.Namespace) -> int:
    """Run one operator command; return the exit code.

    Only ``migrate`` and ``users add`` create a missing SQLite file; the other commands
    read or change what must already be there, so a mistyped path is an error.
    """
    try:
        settings = _settings(args)
    except ConfigError as exc:
        return _fail(args, EXIT_BAD_INPUT, str(exc))
    url = settings.database_url
    creates = args.command == "migrate" or (args.command == "users" and args.users_command == "add")
    missing = None if creates else _sqlite_missing(url)
    if missing is not None:
        return _fail(
            args,
            EXIT_BAD_INPUT,
            f"no database at {missing} (from {url!r}); run alphintra migrate to create one",
        )
    try:
        return _run(args, settings)
    except _ADMIN_ERRORS as exc:
        return _fail(args, *database_error(exc, url))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        upgrade(settings.database_url)
        print(f"database at revision {current(settings.database_url)}")
        return EXIT_OK
    if args.command == "replay":  # reads only: no migration
        return _replay(args, settings)
    upgrade(settings.database_url)
    directory = Directory(settings.database_url)
    try:
        if args.command == "users":
            return _users(args, directory)
        if args.command == "keys":
            return _keys(args, directory, settings)
        return _accounts(args, directory, settings)
    finally:
        directory.close()


_USER_ID = re.compile(r"[A-Za-z0-9._@:\-]{1,128}")
"""A user ID: what the audit trail names as the actor of every change, so no blanks."""


def _users(args: argparse.Namespace, directory: Directory) -> int:
    if args.users_command == "add":
        if not _USER_ID.fullmatch(args.user_id):
            sys.stderr.write(
                f"error: user ID must be 1 to 128 letters, digits or . _ @ : -, "
                f"got {args.user_id!r}\n"
            )
            return EXIT_BAD_INPUT
        password_hash = None
        if args.password_stdin:
            password = (
                sys.stdin.readline().rstrip("\n")
                if not sys.stdin.isatty()
                else (getpass.getpass("password: "))
            )
            if len(password) < 12:
                sys.stderr.write("error: the password must have at least 12 characters\n")
                return EXIT_BAD_INPUT
            password_hash = hash_password(password)
        try:
            directory.add_user(args.user_id, args.role, password_hash)
        except ValueError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_BAD_INPUT
        print(f"created user {args.user_id} ({args.role})")
        return EXIT_OK
    users = directory.list_users()
    if args.json:
        print(json.dumps([{"userId": u.user_id, "role": u.role} for u in users]))
    else:
        for user in users:
            print(f"{user.user_id}\t{user.role}")
    return EXIT_OK


def _keys(args: argparse.Namespace, directory: Directory, settings: Settings) -> int:
    if args.keys_command == "create":
        if directory.user(args.user_id) is None:
            sys.stderr.write(f"error: no user {args.user_id!r}\n")
            return EXIT_BAD_INPUT
        generated = generate_api_key(settings.pepper_bytes())
        directory.add_key(generated.key_id, args.user_id, generated.key_hash, args.label)
        print(generated.full_key)
        return EXIT_OK
    if not directory.revoke_key(args.key_id):
        sys.stderr.write(f"error: no active key {args.key_id!r}\n")
        return EXIT_BAD_INPUT
    print(f"revoked {args.key_id}")
    return EXIT_OK


_ACCOUNT_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
"""An account ID as the API accepts one (``Identifier`` of ``api.schemas``)."""
_CURRENCY = re.compile(r"[A-Z]{3,5}")


def _account_problem(args: argparse.Namespace, settings: Settings, text: str | None) -> str | None:
    """Return why the service could not load this account, or None.

    At start-up the service builds every account's venue links and refuses to start
    when one fails (and no command removes an account), so the same check runs here,
    with the credentials given on stdin.
    """
    if not _ACCOUNT_ID.fullmatch(args.account_id):
        return f"account ID must be 1 to 128 letters, digits or . _ : -, got {args.account_id!r}"
    if not _CURRENCY.fullmatch(args.currency.upper()):
        return f"--currency must be 3 to 5 letters, got {args.currency!r}"
    credentials = json.loads(text) if text is not None else {}
    try:
        account_links(
            args.account_id,
            args.venue,
            settings.venues,
            settings.failover,
            credentials if args.venue in settings.venues else {},
            InstrumentRegistry(),
        )
    except VenueSettingsError as exc:
        return str(exc)
    return None


def _accounts(args: argparse.Namespace, directory: Directory, settings: Settings) -> int:
    if directory.user(args.owner) is None:
        sys.stderr.write(f"error: no user {args.owner!r}\n")
        return EXIT_BAD_INPUT
    try:
        cash = Decimal(args.starting_cash)
        if not cash.is_finite() or cash <= 0:
            raise ValueError
    except (ValueError, ArithmeticError):
        sys.stderr.write(
            f"error: --starting-cash must be a positive number, got {args.starting_cash!r}\n"
        )
        return EXIT_BAD_INPUT
    ciphertext = text = None
    if args.credentials_stdin:
        text = sys.stdin.read()
        try:
            ciphertext = _encrypted_credentials(args.account_id, text)
        except (ValueError, MasterKeyError) as exc:
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_BAD_INPUT
    problem = _account_problem(args, settings, text)
    if problem is not None:
        sys.stderr.write(f"error: {problem}\n")
        return EXIT_BAD_INPUT
    try:
        directory.add_account(
            args.account_id,
            args.owner,
            args.venue,
            args.currency.upper(),
            format(cash, "f"),
            ciphertext,
        )
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    print(f"created account {args.account_id} for {args.owner}")
    return EXIT_OK


def _encrypted_credentials(account_id: str, text: str) -> bytes:
    """Encrypt a JSON object of credentials for ``account_id`` under the master key."""
    master_key = MasterKey.from_env(os.environ)
    if master_key is None:
        raise ValueError("credentials need a master key: set ALPHINTRA_MASTER_KEY(_FILE)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"credentials on stdin are not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"credentials must be a JSON object of strings, got {type(data).__name__}")
    return CredentialVault(master_key).encrypt(json.dumps(data).encode(), account_id.encode())


class _NullJournal:
    pending = 0

    def append(self, event: object) -> int:
        return 0

    def commit(self) -> dict[str, int]:
        return {}


def rebuild_state(
    settings: Settings,
    account_id: str,
    *,
    upto_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[AccountState, int]:
    """Return an account's state folded from its journal, and the number of events.

    With ``upto_seq``, fold only the events up to that seq (the verified prefix of a
    stream whose chain breaks after it: later rows may not even decode). ``progress``
    is called with the number of events folded since its last call.
    """
    engine = TradingEngine(
        account_id=AccountId(account_id),
        registry=InstrumentRegistry(),
        journal=_NullJournal(),
        clock=LiveClock(),
        venues={VenueId("SIM"): SIMULATED_CAPABILITIES},
        default_venue=VenueId("SIM"),
    )
    journal = open_journal(settings.database_url)
    count = 0
    try:
        records = _records(journal.read_rows(AccountId(account_id)), upto_seq)
        while chunk := [record.event for record in itertools.islice(records, _CHUNK)]:
            engine.restore(chunk)  # continues from the state the last chunk left
            count += len(chunk)
            if progress is not None:
                progress(len(chunk))
    finally:
        journal.close()
    return engine.state, count


_CHUNK = 1000


def _records(rows: Iterable[EventRow], upto_seq: int | None) -> Iterator[JournalRecord]:
    for row in rows:
        if upto_seq is not None and row.seq > upto_seq:
            return
        yield record_of(row)


def _audit_rows(url: str, account_id: str) -> list[AuditRow] | None:
    """Return the account's audit_log rows by seq, or None without an audit_log table."""
    engine = sa.create_engine(engine_url(url))
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("audit_log"):
                return None
            table = schema.audit_log
            query = (
                sa.select(
                    table.c.seq,
                    table.c.actor,
                    table.c.action,
                    table.c.address,
                    table.c.target,
                    table.c.old_value,
                    table.c.new_value,
                    table.c.ts_ns,
                )
                .where(table.c.account_id == account_id)
                .order_by(table.c.seq)
            )
            return [AuditRow(*row) for row in connection.execute(query)]
    finally:
        engine.dispose()


def _fill_rows(url: str, account_id: str) -> list[FillIndexRow] | None:
    """Return the account's journal_fills rows, or None without that table."""
    engine = sa.create_engine(engine_url(url))
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("journal_fills"):
                return None
            query = sa.text(
                "SELECT venue, trade_id, seq FROM journal_fills WHERE account_id = :account"
            )
            return [
                FillIndexRow(str(venue), str(trade_id), int(seq))
                for venue, trade_id, seq in connection.execute(query, {"account": account_id})
            ]
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class _IndexTables:
    """The rows written beside an account's events, read while ``committed`` was its head."""

    committed: int
    fills: list[FillIndexRow] | None
    audits: list[AuditRow] | None


def _cross_check(
    journal: Journal, tables: _IndexTables, account: AccountId, upto_seq: int
) -> VerificationProblem | None:
    """Compare the tables written beside the events (journal_fills, audit_log) with the
    verified events up to ``upto_seq``; return the first difference, or None."""
    audit_seqs = {row.seq for row in tables.audits or ()}
    audits: list[tuple[int, str, AuditRecorded | None]] = []
    fills: list[tuple[int, str, str]] = []
    for row in journal.read_rows(account):
        if row.seq > upto_seq:
            break
        if row.event_type == "AuditRecorded":
            event = record_of(row).event
            audit = event if isinstance(event, AuditRecorded) else None
            audits.append((row.seq, row.event_type, audit))
        elif row.seq in audit_seqs:
            audits.append((row.seq, row.event_type, None))
        if row.event_type == "OrderFilled":
            fill = record_of(row).event
            if isinstance(fill, OrderFilled):
                fills.append((row.seq, fill.venue, fill.trade_id))
    committed = tables.committed
    problems = [
        None
        if tables.fills is None
        else check_fill_index(fills, tables.fills, upto_seq, indexed_upto=committed),
        None
        if tables.audits is None
        else check_audit_log(audits, tables.audits, indexed_upto=committed),
    ]
    found = [p for p in problems if p is not None]
    return min(found, key=lambda p: p.seq) if found else None


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    """Verify the chain (and the audit_log copy), then fold the verified events."""
    account = AccountId(args.account_id)
    err = Console(stderr=True)
    journal = open_journal(settings.database_url)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=args.json or args.quiet or not err.is_terminal,
    ) as bar:
        try:
            # Read the tables written beside the events before the events: every row read
            # then has its event committed, and every event up to `committed` its row,
            # whatever a running service appends meanwhile.
            committed = journal.head(account).seq
            tables = _IndexTables(
                committed,
                _fill_rows(settings.database_url, account),
                _audit_rows(settings.database_url, account),
            )
            task = bar.add_task("verify", total=committed)
            report = verify(
                journal,
                account,
                recorded_head=args.recorded_head,
                progress=lambda n: bar.advance(task, n),
            )
            if report.checked == 0 and report.ok:
                return _fail(args, EXIT_BAD_INPUT, f"no events for account {args.account_id!r}")
            problem: VerificationProblem | None = report.problem
            if problem is None or problem.kind is ProblemKind.HEAD_MISMATCH:
                problem = problem or _cross_check(journal, tables, account, report.head.seq)
        finally:
            journal.close()
        task = bar.add_task("rebuild", total=report.head.seq)
        rebuild_error = None
        state: AccountState | None = None
        count = 0
        try:
            state, count = rebuild_state(
                settings,
                args.account_id,
                upto_seq=report.head.seq,
                progress=lambda n: bar.advance(task, n),
            )
        except Exception as exc:  # the verified events do not fold: say so, no traceback
            rebuild_error = f"{type(exc).__name__}: {exc}"
    summary: dict[str, Any] = {
        "accountId": args.account_id,
        "events": count,
        "rebuildError": rebuild_error,
        "head": f"{report.head.seq}:{report.head.hash.hex()}",
        "chainVerified": report.ok,
        "problem": problem.description if problem else None,
        "problemSeq": problem.seq if problem else None,
        "problemKind": problem.kind.value if problem else None,
    }
    if state is not None:
        summary.update(
            orders=len(state.orders),
            openOrders=len(state.open_orders),
            positions={
                k: format(p.quantity, "f") for k, p in state.positions.items() if p.quantity
            },
            cash={k: format(v, "f") for k, v in state.cash.items()},
            tradingState=state.trading_state.value,
        )
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    if problem is not None:
        sys.stderr.write(
            f"error: account {args.account_id!r}: FAILED at seq {problem.seq} "
            f"({problem.kind}): {problem.description}\n"
        )
    if rebuild_error is not None:
        sys.stderr.write(
            f"error: account {args.account_id!r}: the events up to seq {report.head.seq} "
            f"do not rebuild a state: {rebuild_error}\n"
        )
    return EXIT_OK if problem is None and rebuild_error is None else EXIT_FAILURE
