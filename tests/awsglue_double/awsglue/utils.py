"""``getResolvedOptions`` as Glue's: ``--name value`` pairs from argv; a missing required one is an error."""
from __future__ import annotations

import argparse


class GlueArgumentError(Exception):
    pass


def getResolvedOptions(args, options):  # noqa: N802 - Glue's name
    parser = argparse.ArgumentParser(add_help=False)
    for option in options:
        parser.add_argument(f"--{option}", required=True)
    try:
        known, _ = parser.parse_known_args(args[1:])
    except SystemExit:
        missing = [o for o in options if f"--{o}" not in args]
        raise GlueArgumentError(f"the following arguments are required: {', '.join('--' + m for m in missing)}") from None
    return vars(known)
