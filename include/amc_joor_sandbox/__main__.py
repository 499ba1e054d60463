"""``python -m amc_joor_sandbox serve …``: both sandbox APIs in the foreground (bin/sandbox calls this)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from amc_joor_sandbox.datasets import DATASETS

JOOR_CONFIG_ENV = "AMC_JOOR_SANDBOX_JOOR_CONFIG"  # the same name joor_state reads


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its error message
    return parse


def _on_off(text: str) -> bool:
    if text.lower() in ("on", "true", "1", "yes"):
        return True
    if text.lower() in ("off", "false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected on or off, got {text}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m amc_joor_sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the AMC and JOOR sandbox APIs until SIGTERM/SIGINT")
    serve.add_argument("--amc-port", type=int, default=int(os.environ.get("AMC_JOOR_SANDBOX_AMC_PORT", 8781)),
                       help="0 picks a free port (the ready line prints it)")
    serve.add_argument("--joor-port", type=int, default=int(os.environ.get("AMC_JOOR_SANDBOX_JOOR_PORT", 8782)))
    serve.add_argument("--dataset", choices=sorted(DATASETS), default="small")
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--state", metavar="FILE", help="restore state from FILE at start, save it at shutdown")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--amc-token", default=os.environ.get("AMC_JOOR_SANDBOX_AMC_TOKEN"),
                       help="API token the AMC sandbox accepts (default amc-sandbox-token; env AMC_JOOR_SANDBOX_AMC_TOKEN)")
    serve.add_argument("--log-level", default="warning")
    joor = serve.add_argument_group("JOOR start-up config (override the same fields of env "
                                    f"{JOOR_CONFIG_ENV}; a reset returns to them)")
    joor.add_argument("--joor-rate-limit", type=_on_off, metavar="on|off",
                      help="enforce the credit window (default on); off = no 429s and no X-RateLimit-* headers")
    joor.add_argument("--joor-credits", type=_positive(int), metavar="N", help="credits per window (default 300)")
    joor.add_argument("--joor-window-seconds", type=_positive(float), metavar="S",
                      help="window length in seconds (default 300)")
    return parser.parse_args(argv)


def joor_start_config(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The JOOR sandbox's start-up config: env JSON fields, then the ``--joor-*`` flags on top.

    None when neither is given (the JOOR state then reads the env itself, as before).
    """
    flags = {key: value for key, value in (("rate_limit_enabled", args.joor_rate_limit),
                                           ("credits_per_window", args.joor_credits),
                                           ("window_seconds", args.joor_window_seconds)) if value is not None}
    if not flags:
        return None
    base: dict[str, Any] = {}
    if environ.get(JOOR_CONFIG_ENV):
        try:
            base = dict(json.loads(environ[JOOR_CONFIG_ENV]))
        except (ValueError, TypeError) as exc:
            raise SystemExit(f"{JOOR_CONFIG_ENV} is not a JSON object: {exc}") from None
    return {**base, **flags}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from amc_joor_sandbox.server import serve

    return asyncio.run(serve(args.dataset, args.seed, args.amc_port, args.joor_port, host=args.host,
                             state_file=args.state, amc_token=args.amc_token, log_level=args.log_level,
                             joor_config=joor_start_config(args, os.environ)))


if __name__ == "__main__":
    sys.exit(main())
