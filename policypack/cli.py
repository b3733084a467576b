"""`payments-guard` / `python -m policypack`: check, list, docs, pack, presets.

Exit status of `check`: 0 nothing mandatory; 1 a mandatory violation or program finding;
2 the check could not run (program error, bad config, pack failure, timeout), with a one-line
cause on stderr.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional, Sequence


def _pairs(values: Optional[Sequence[str]], flag: str) -> Dict[str, str]:
    result: Dict[str, str] = {}
    for item in values or ():
        if "=" not in item:
            raise SystemExit(_usage_error(f"{flag} takes KEY=VALUE, got {item!r}"))
        key, value = item.split("=", 1)
        if not key:
            raise SystemExit(_usage_error(f"{flag} takes KEY=VALUE, got {item!r}"))
        result[key] = value
    return result


def _usage_error(message: str) -> int:
    print(f"payments-guard: {message}", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="payments-guard", description=(
        "Pulumi CrossGuard policy pack for payment platforms on AWS ECS Fargate, and its offline check."))
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="print the release and the pulumi-policy and pulumi versions it runs with")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="run a Pulumi Python program under mocks and evaluate it with the pack",
                           description="Exit status: 0 nothing mandatory; 1 a mandatory violation or program "
                                       "finding; 2 the check could not run.")
    check.add_argument("program", help="the Pulumi program directory (with Pulumi.yaml)")
    check.add_argument("--stack", default="dev", help="stack name (default: dev)")
    check.add_argument("--config", action="append", metavar="KEY=VALUE",
                       help="stack config; a bare KEY is in the program's project namespace (repeatable)")
    check.add_argument("--secret", action="append", metavar="KEY=VALUE", help="secret stack config (repeatable)")
    check.add_argument("--policy-config", metavar="FILE|PRESET",
                       help="policy config, as for `pulumi preview --policy-pack-config`, or the name of a "
                            "shipped preset (`payments-guard presets`)")
    check.add_argument("--pack", metavar="DIR",
                       help="the Python policy pack to drive (default: the policies of this installed release)")
    check.add_argument("--mode", choices=("update", "preview"), default="update",
                       help="update: outputs of created resources fabricated as during `pulumi up` (default); "
                            "preview: left unknown, as in a first `pulumi preview`")
    check.add_argument("--format", choices=("text", "json", "sarif", "junit", "github"), default="text")
    check.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    check.add_argument("--timeout", type=float, default=300.0, help="seconds for the whole check (default 300)")
    check.add_argument("--invoke-answers", metavar="FILE",
                       help="JSON object: invoke token -> result, for invokes without a built-in answer")
    check.add_argument("--region", help="AWS region of the mock account (default: aws:region config or us-east-1)")
    check.add_argument("--account", default="123456789012", help="AWS account id of the mock account")
    check.add_argument("--baseline", metavar="FILE",
                       help="violations recorded in this baseline are reported as baselined and do not fail")
    check.add_argument("--write-baseline", metavar="FILE", help="record today's violations as the baseline")
    check.add_argument("--quiet", action="store_true", help="no progress on stderr")

    listing = sub.add_parser("list", help="print the policy catalogue")
    listing.add_argument("--format", choices=("text", "json"), default="text")

    docs = sub.add_parser("docs", help="generate docs/rules.md from the rules' metadata")
    docs.add_argument("--output", default=None, help="default: docs/rules.md in this repository")
    docs.add_argument("--check", action="store_true", help="exit 1 when the file is stale instead of writing it")
    _distribution_commands(sub)
    return parser


class _VersionAction(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        from .distribution import versions
        found = versions()
        print(f"payments-guard {found['payments-guard']} (pulumi-policy {found['pulumi-policy']}, "
              f"pulumi {found['pulumi']})")
        parser.exit(0)


def _distribution_commands(sub) -> None:
    pack = sub.add_parser("pack", help="write a ready policy-pack directory for `pulumi preview --policy-pack` "
                                       "and `pulumi policy publish`",
                          description="Writes PulumiPolicy.yaml, __main__.py, requirements.txt (pulumi and "
                                      "pulumi-policy only) and the policies' package into DIR (absent or empty).")
    pack.add_argument("directory", metavar="DIR")
    pack.add_argument("--name", default=None, help="the pack's name (default: payments-guard)")
    pack.add_argument("--policies", action="append", metavar="NAME[,NAME...]",
                      help="serve only these policies (repeatable; comma-separated)")
    pack.add_argument("--frameworks", action="append", metavar="NAME[,NAME...]",
                      help="serve only the policies of these compliance frameworks (prefix, e.g. pci)")
    pack.add_argument("--preset", metavar="NAME|FILE",
                      help="the pack's initial config (used when no --policy-pack-config is given), also "
                           "written as policy-config.json for `pulumi policy enable --config`")
    changed = sub.add_parser("check-changed", help="check the Pulumi projects that contain the given files "
                                                   "(the pre-commit hook)",
                             description="Each file's project is the nearest directory above it with a "
                                         "Pulumi.yaml; files outside any project are passed over. Exit status "
                                         "as for check, the worst of all projects.")
    changed.add_argument("files", nargs="*", metavar="FILE")
    changed.add_argument("--stack", default="dev", help="stack name (default: dev)")
    changed.add_argument("--policy-config", metavar="FILE|PRESET")
    changed.add_argument("--baseline", metavar="FILE")
    changed.add_argument("--mode", choices=("update", "preview"), default="update")
    changed.add_argument("--quiet", action="store_true", help="no progress on stderr")
    presets = sub.add_parser("presets", help="list the shipped policy-config presets")
    presets.add_argument("--paths", action="store_true", help="print each preset's file path")


def _split_list(values: Optional[Sequence[str]]) -> Optional[List[str]]:
    items = [item.strip() for value in values or () for item in value.split(",") if item.strip()]
    return items or None


def _pack(args: argparse.Namespace) -> int:
    from . import PACK_NAME
    from .distribution import DistributionError, stage_pack
    try:
        target = stage_pack(args.directory, name=args.name if args.name is not None else PACK_NAME,
                            policies=_split_list(args.policies), frameworks=_split_list(args.frameworks),
                            preset=args.preset)
    except DistributionError as exc:
        print(f"payments-guard: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"payments-guard: error: cannot write {args.directory}: {exc.strerror}", file=sys.stderr)
        return 2
    print(target)
    return 0


def _check_changed(args: argparse.Namespace) -> int:
    missing = missing_check_dependencies()
    if missing:
        return _missing_extra(missing)
    from .distribution import project_runtime, pulumi_projects
    codes = []
    for project in pulumi_projects(args.files, os.getcwd()):
        runtime = project_runtime(project)
        if runtime != "python":  # a repository may hold projects in other languages
            if not args.quiet:
                print(f"payments-guard: {project}: runtime {runtime!r}, not checked (Python programs only)",
                      file=sys.stderr)
            continue
        argv = ["check", project, "--stack", args.stack, "--mode", args.mode]
        for flag, value in (("--policy-config", args.policy_config), ("--baseline", args.baseline)):
            if value:
                argv += [flag, value]
        if args.quiet:
            argv.append("--quiet")
        codes.append(main(argv))
    return 2 if 2 in codes else max(codes, default=0)


def _presets(args: argparse.Namespace) -> int:
    from .distribution import preset_names, preset_path
    for name in preset_names():
        print(f"{name}\t{preset_path(name)}" if args.paths else name)
    return 0


#: import name -> distribution, for what `payments-guard check` needs beyond the pack itself
CHECK_EXTRA = {"jsonschema": "jsonschema", "yaml": "pyyaml", "pulumi_aws": "pulumi-aws"}


def missing_check_dependencies() -> List[str]:
    import importlib.util
    return [dist for module, dist in CHECK_EXTRA.items() if importlib.util.find_spec(module) is None]


def _missing_extra(missing: Sequence[str]) -> int:
    print(f"payments-guard: error: the check needs {', '.join(missing)} (not installed): "
          "pip install 'payments-guard[check]'", file=sys.stderr)
    return 2


def _check(args: argparse.Namespace) -> int:
    missing = missing_check_dependencies()
    if missing:
        return _missing_extra(missing)
    from .distribution import SERVED_PACK_DIR
    from .offline.check import CheckError, CheckOptions, run_check
    from .offline.reports import render

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"payments-guard: {message}", file=sys.stderr, flush=True)

    options = CheckOptions(program=args.program, stack=args.stack, config=_pairs(args.config, "--config"),
                           secrets=_pairs(args.secret, "--secret"), policy_config=args.policy_config,
                           pack=os.path.abspath(args.pack) if args.pack else SERVED_PACK_DIR, mode=args.mode,
                           timeout=args.timeout, account=args.account, region=args.region,
                           invoke_answers=args.invoke_answers, baseline=args.baseline, progress=progress)
    try:
        report = run_check(options)
    except CheckError as exc:
        print(f"payments-guard: error: {exc}", file=sys.stderr)
        return 2
    if args.write_baseline:
        import json
        try:
            with open(args.write_baseline, "w", encoding="utf-8") as handle:
                json.dump(report.baseline(), handle, indent=2)
                handle.write("\n")
        except OSError as exc:
            print(f"payments-guard: error: cannot write the baseline {args.write_baseline}: {exc.strerror}",
                  file=sys.stderr)
            return 2
        progress(f"wrote baseline {args.write_baseline} ({len(report.violations)} violations)")
    text = render(report, args.format)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            print(f"payments-guard: error: cannot write the report to {args.output}: {exc.strerror}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    if report.exit_code == 2:
        print(f"payments-guard: error: {report.cause or 'the program failed'}", file=sys.stderr)
    return report.exit_code


class _Terminated(Exception):
    """SIGTERM/SIGHUP, raised in the main thread so that the finally blocks run."""


def _terminate(signum, frame):  # pragma: no cover - exercised through a subprocess test
    raise _Terminated()


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    import signal
    # SIGTERM/SIGHUP unwind like Ctrl-C: the finally blocks reap the program runner and the pack
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(sig, _terminate)
        except (ValueError, OSError):  # not the main thread (embedded use)
            pass
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "list":
            from .catalogue import render_listing
            sys.stdout.write(render_listing(args.format))
            return 0
        if args.command == "docs":
            from .catalogue import write_docs
            return write_docs(args.output, check=args.check)
        if args.command == "pack":
            return _pack(args)
        if args.command == "presets":
            return _presets(args)
        if args.command == "check-changed":
            return _check_changed(args)
    except KeyboardInterrupt:
        print("payments-guard: interrupted", file=sys.stderr)
        return 2
    except _Terminated:
        print("payments-guard: terminated", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - exit 1 means "mandatory violation" to CI: never for a crash
        print(f"payments-guard: error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return 2
