"""Command line: ``python -m revoque.cli migrate | seed | setup | reindex | check | create-admin EMAIL | outbox``.

Every command reads the same settings as the app, and a configuration problem ends with one
clear line naming the variable and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from revoque.errors import RevoqueError


def _progress_bar(label: str) -> Callable[[int, int], None]:
    """A progress bar on stderr: redrawn in place on a terminal, a line per quarter in logs."""
    interactive = sys.stderr.isatty()
    shown = {"step": -1}

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        step = filled if interactive else 4 * done // max(total, 1)
        if step == shown["step"] and done < total:
            return
        shown["step"] = step
        bar = f"{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        sys.stderr.write(f"\r{bar}" if interactive else f"{bar}\n")
        if interactive and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def cmd_check(_: argparse.Namespace) -> None:
    from revoque.db import check_database, get_engine

    check_database()
    print(f"database ok: {get_engine().url.render_as_string(hide_password=True)}")


def cmd_migrate(_: argparse.Namespace) -> None:
    from revoque.db import upgrade_database

    upgrade_database()
    print("database is up to date")


def cmd_seed(args: argparse.Namespace) -> None:
    from revoque.adapters.storage import get_storage
    from revoque.db import session_scope
    from revoque.services.demo_commerce import ensure_demo_store
    from revoque.services.seed import seed_demo_catalog

    started = time.perf_counter()
    with session_scope(write=True) as session:
        report = seed_demo_catalog(session, get_storage(), progress=_progress_bar("seeding"))
        ensure_demo_store(session)
    if report.created:
        from revoque.services.catalog_cache import invalidate_everything

        invalidate_everything()  # the seed writes rows directly, past the services' invalidation
        print(f"seeded the demo catalog in {time.perf_counter() - started:.1f}s: {report}")
    else:
        print("the store already has products; nothing seeded")
    _build_search_index(args)


def cmd_reindex(_: argparse.Namespace) -> None:
    """Rebuild the keyword index, then the embeddings. One engine being down does not stop the
    other from being rebuilt; what failed is reported at the end in one line (exit code 2)."""
    from revoque.adapters.embedder import EmbedderError
    from revoque.adapters.search import SearchUnavailable
    from revoque.adapters.vectors import VectorStoreError

    failures: list[str] = []
    for rebuild, errors in ((_reindex_keywords, SearchUnavailable), (_reembed, (EmbedderError, VectorStoreError))):
        try:
            rebuild()
        except errors as exc:
            failures.append(str(exc))
    if failures:
        raise RevoqueError(f"reindex did not finish: {'; '.join(failures)}")


def _reindex_keywords() -> None:
    from revoque.services.search import reindex_all

    started = time.perf_counter()
    written = reindex_all(progress=_progress_bar("indexing"))
    print(f"indexed {written} products for search in {time.perf_counter() - started:.1f}s")


def _reembed() -> None:
    from revoque.db import session_scope
    from revoque.services.knowledge import reindex_knowledge
    from revoque.services.vector_index import forget_vector_answers, reembed_all

    started = time.perf_counter()
    written = reembed_all(progress=_progress_bar("embedding"))
    forget_vector_answers()  # hybrid answers and related products cached from the old vectors
    print(f"embedded {written} products for related products in {time.perf_counter() - started:.1f}s")
    with session_scope() as session:
        passages = reindex_knowledge(session)
    print(f"embedded {passages} FAQ and policy passages for the assistant")


def _build_search_index(_: argparse.Namespace) -> None:
    """Index the catalog unless the index already holds it. Search is optional: when its engine is
    down, seeding and setup still succeed (the storefront falls back to a database search)."""
    from revoque.adapters.search import SearchUnavailable
    from revoque.services.search import index_matches_catalog

    try:
        if not index_matches_catalog():
            _reindex_keywords()
    except SearchUnavailable as exc:
        print(f"warning: {exc} Run `python -m revoque.cli reindex` once it is back.", file=sys.stderr)


def _build_embeddings() -> None:
    """Embed the catalog unless the vector collection already holds exactly the active products
    (checked without loading the model, so a second setup stays instant). Vectors are optional:
    without them the product page just has no related products, so setup still succeeds."""
    from revoque.adapters.embedder import EmbedderError
    from revoque.adapters.vectors import VectorStoreError
    from revoque.services.vector_index import embeddings_match_catalog

    try:
        if not embeddings_match_catalog():
            _reembed()
    except (EmbedderError, VectorStoreError) as exc:
        reason = str(exc).rstrip(". ")
        print(f"warning: {reason}. Run `python -m revoque.cli reindex` once it is fixed.", file=sys.stderr)


def cmd_setup(args: argparse.Namespace) -> None:
    cmd_migrate(args)
    cmd_seed(args)
    _build_embeddings()


def cmd_create_admin(args: argparse.Namespace) -> None:
    from revoque.db import session_scope
    from revoque.services.accounts import create_admin

    with session_scope(write=True) as session:
        user, generated = create_admin(session, args.email, args.password)
    print(f"{user.email} is an admin")
    if generated:
        print(f"generated password (shown once): {generated}")


def _create_admin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email")
    parser.add_argument("--password", help="set this password (default: keep it, or generate one for a new account)")


def cmd_outbox(args: argparse.Namespace) -> None:
    from sqlmodel import col, select

    from revoque.db import session_scope
    from revoque.errors import NotFound
    from revoque.models import OutboxEmail

    with session_scope() as session:
        if args.show is not None:
            email = session.get(OutboxEmail, args.show)
            if email is None:
                raise NotFound(f"There is no outbox email {args.show}.")
            print(f"To: {email.to}\nSubject: {email.subject}\nStatus: {email.status} {email.error}".rstrip())
            print(f"\n{email.body_text}")
            return
        newest = session.exec(select(OutboxEmail).order_by(col(OutboxEmail.id).desc()).limit(max(args.limit, 1))).all()
    print(f"{'id':>6}  {'created (UTC)':<16}  {'status':<7}  to  subject" if newest else "the outbox is empty")
    for email in newest:
        print(f"{email.id:>6}  {email.created_at:%Y-%m-%d %H:%M}  {email.status:<7}  {email.to}  {email.subject}")


def _outbox_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=20, help="how many of the newest emails to list (default 20)")
    parser.add_argument("--show", type=int, metavar="ID", help="print the email with this id, body included")


Handler = Callable[[argparse.Namespace], None]
ArgumentsFor = Callable[[argparse.ArgumentParser], None]

# name → (handler, help[, function that adds the command's arguments to its parser])
COMMANDS: dict[str, tuple[Handler, str] | tuple[Handler, str, ArgumentsFor]] = {
    "check": (cmd_check, "check that DATABASE_URL can be reached"),
    "migrate": (cmd_migrate, "apply database migrations"),
    "seed": (cmd_seed, "add the demo catalog if the store has no products, then index it for search"),
    "setup": (cmd_setup, "migrate, then seed, index for search and embed the catalog (each only when needed)"),
    "reindex": (
        cmd_reindex,
        "rebuild the search index and the product embeddings from the catalog (safe while the store is serving)",
    ),
    "create-admin": (
        cmd_create_admin,
        "create an admin, or make an existing account admin",
        _create_admin_arguments,
    ),
    "outbox": (cmd_outbox, "list the newest emails in the outbox, or --show one", _outbox_arguments),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m revoque.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text, *arguments_for) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text)
        for add_arguments in arguments_for:
            add_arguments(command_parser)
    args = parser.parse_args(argv)
    from revoque.services.failed_jobs import install_recorder

    install_recorder()  # jobs the command runs in-process that use up their retries are kept for staff
    try:
        COMMANDS[args.command][0](args)
    except RevoqueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
