"""``python -m amc_joor_sandbox serve …``: both sandbox APIs in the foreground (bin/sandbox calls this)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from amc_joor_sandbox.datasets import DATASETS


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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from amc_joor_sandbox.server import serve

    return asyncio.run(serve(args.dataset, args.seed, args.amc_port, args.joor_port, host=args.host,
                             state_file=args.state, amc_token=args.amc_token, log_level=args.log_level))


if __name__ == "__main__":
    sys.exit(main())
