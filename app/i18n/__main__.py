"""``python -m app.i18n extract|update|compile|check``: Babel's pybabel with this project's paths.

See the docstring of :mod:`app.i18n` for the exact commands these run.
"""

from __future__ import annotations

import os
import sys

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from app.i18n import SOURCE_LANGUAGE, SUPPORTED
from app.i18n.catalogs import DOMAIN, ROOT, po_path

SOURCES = ("app", "ui", "main.py")

COMMANDS = {
    "extract": [
        "extract",
        "-F",
        "babel.cfg",
        "-o",
        f"locales/{DOMAIN}.pot",
        "--add-comments=Translators:",
        "--project=Istiqbal",
        "--copyright-holder=Istiqbal contributors",
        "--sort-by-file",
    ],
    "update": ["update", "-i", f"locales/{DOMAIN}.pot", "-d", "locales", "-D", DOMAIN],
    "compile": ["compile", "-d", "locales", "-D", DOMAIN, "--statistics"],
}


def pybabel(args: list[str]) -> int:
    CommandLineInterface().run(["pybabel", *args])
    return 0


def reset_source_catalog() -> None:
    """The source language's catalog translates nothing: after ``update`` its fuzzy guesses
    (Babel matches a new msgid with a similar old one) are emptied, so English shows msgids."""
    path = po_path(SOURCE_LANGUAGE)
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=SOURCE_LANGUAGE)
    for message in catalog:
        if message.id and (
            message.fuzzy or any(message.string if message.pluralizable else (message.string,))
        ):
            message.string = ("",) * catalog.num_plurals if message.pluralizable else ""
            message.flags.discard("fuzzy")
            message.previous_id = []
    with path.open("wb") as fp:
        write_po(fp, catalog, width=76, sort_by_file=True, include_previous=True)


def check() -> int:
    """Print untranslated and fuzzy entries of the non-source catalogs; 1 if any."""
    problems = 0
    for lang in SUPPORTED:
        if lang == "en":
            continue
        with po_path(lang).open("rb") as fp:
            catalog = read_po(fp, locale=lang)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy or not all(strings):
                problems += 1
                state = "fuzzy" if message.fuzzy else "untranslated"
                print(f"{lang}: {state}: {message.id!r}")
        for message, errs in catalog.check():
            problems += len(errs)
            for err in errs:
                print(f"{lang}: {message.id!r}: {err}")
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in (*COMMANDS, "check"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    os.chdir(ROOT)
    if argv[0] == "check":
        return check()
    args = list(COMMANDS[argv[0]])
    if argv[0] == "extract":
        args += [src for src in SOURCES if (ROOT / src).exists()]
    code = pybabel(args)
    if argv[0] == "update":
        reset_source_catalog()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
