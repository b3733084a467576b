"""`payments-guard` / `python -m policypack`: check, audit, list, docs, pack, presets, check-changed.

Exit status of `check` and `audit`: 0 nothing mandatory; 1 a mandatory violation or program
finding; 2 an input could not be evaluated (program error, unreadable export, bad config, pack
failure, timeout), with a one-line cause on stderr. Several inputs give one report; exit 2 when
any of them could not be evaluated.

The offline check and the pack (grpc, pulumi-policy, jsonschema) are imported by the commands that
use them: `pack`, `presets` and `--version` run under a plain python3.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional, Sequence

from . import PACK_NAME
from .distribution import SERVED_PACK_DIR, DistributionError, project_runtime, pulumi_projects, stage_pack
from .release import preset_names, preset_path, versions


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


def _common(command: argparse.ArgumentParser) -> None:
    """The options `check` and `audit` share: the pack, its config, baselines, report, timing."""
    from .offline.reports import FORMATS
    command.add_argument("--policy-config", metavar="FILE|PRESET",
                         help="policy config, as for `pulumi preview --policy-pack-config`, or the name of a "
                              "shipped preset (`payments-guard presets`)")
    command.add_argument("--pack", metavar="DIR",
                         help="the Python policy pack to drive (default: the policies of this installed release)")
    command.add_argument("--format", choices=FORMATS, default="text")
    command.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    command.add_argument("--timeout", type=float, default=300.0,
                         help="seconds for each input's evaluation (default 300)")
    command.add_argument("--baseline", metavar="FILE",
                         help="violations recorded in this baseline are reported as baselined and do not fail")
    command.add_argument("--write-baseline", metavar="FILE", help="record today's violations as the baseline")
    command.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                         help="inputs evaluated at once (default: the CPU count)")
    command.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="payments-guard", description=(
        "Pulumi CrossGuard policy pack for payment platforms on AWS ECS Fargate, and its offline check."))
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="print the release and the pulumi-policy and pulumi versions it runs with")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="run Pulumi Python programs under mocks and evaluate them with the pack",
                           description="Exit status: 0 nothing mandatory; 1 a mandatory violation or program "
                                       "finding; 2 a program could not be checked.")
    check.add_argument("programs", nargs="*", metavar="PROGRAM",
                       help="Pulumi program directories (with Pulumi.yaml); several give one report")
    check.add_argument("--all", metavar="ROOT", dest="all_root",
                       help="also every Python program (Pulumi.yaml) below ROOT")
    check.add_argument("--stack", default="dev", help="stack name (default: dev)")
    check.add_argument("--config", action="append", metavar="KEY=VALUE",
                       help="stack config; a bare KEY is in the program's project namespace (repeatable)")
    check.add_argument("--secret", action="append", metavar="KEY=VALUE", help="secret stack config (repeatable)")
    check.add_argument("--mode", choices=("update", "preview"), default="update",
                       help="update: outputs of created resources fabricated as during `pulumi up` (default); "
                            "preview: left unknown, as in a first `pulumi preview`")
    check.add_argument("--invoke-answers", metavar="FILE",
                       help="JSON object: invoke token -> result, for invokes without a built-in answer")
    check.add_argument("--region", help="AWS region of the mock account (default: aws:region config or us-east-1)")
    check.add_argument("--account", default="123456789012", help="AWS account id of the mock account")
    check.add_argument("--python", metavar="FILE",
                       help="the interpreter that runs every program (default: the one Pulumi.yaml's virtualenv or "
                            "toolchain names, else PULUMI_PYTHON_CMD, else python3 on PATH when it has pulumi, "
                            "else the check's own)")
    check.add_argument("--allow-unseen", action="append", metavar="TYPE_GLOB", default=[],
                       help="accept multi-language components of these types (e.g. 'awsx:*'): their unseen "
                            "children are then an advisory finding, not a failure (repeatable)")
    _common(check)

    audit = sub.add_parser("audit", help="evaluate `pulumi stack export` files as `pulumi policy analyze` does",
                           description="Evaluate deployed stacks from their `pulumi stack export` files, as "
                                       "`pulumi policy analyze --file` does: Remediate (reported, not applied) "
                                       "and Analyze per resource with its stored inputs, one AnalyzeStack with "
                                       "the outputs, no ConfigureStack; undecryptable secrets read as "
                                       "\"[secret]\". Exit status: 0 nothing mandatory; 1 a mandatory "
                                       "violation; 2 an export could not be evaluated.")
    audit.add_argument("exports", nargs="+", metavar="EXPORT",
                       help="export files, directories (every *.json below), or - for standard input")
    _common(audit)
    listing = sub.add_parser("list", help="print the policy catalogue")
    listing.add_argument("--format", choices=("text", "json"), default="text")

    docs = sub.add_parser("docs", help="generate docs/rules.md from the rules' metadata")
    docs.add_argument("--output", default=None, help="default: docs/rules.md in this repository")
    docs.add_argument("--check", action="store_true", help="exit 1 when the file is stale instead of writing it")
    _distribution_commands(sub)
    return parser


class _VersionAction(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
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
    changed.add_argument("--allow-unseen", action="append", metavar="TYPE_GLOB", default=[],
                         help="as for check: remote component types accepted unseen (repeatable)")
    changed.add_argument("--quiet", action="store_true", help="no progress on stderr")
    render = sub.add_parser("render", help="render a JSON report (check/audit --format json) in another format",
                            description="One check, many formats: the report as the check would have rendered "
                                        "it. Exit status 0, or 2 when the file is not a JSON report.")
    render.add_argument("report", metavar="REPORT.json")
    from .offline.reports import FORMATS
    render.add_argument("--format", choices=FORMATS, default="text")
    render.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    presets = sub.add_parser("presets", help="list the shipped policy-config presets")
    presets.add_argument("--paths", action="store_true", help="print each preset's file path")


def _render(args: argparse.Namespace) -> int:
    from .offline.reports import ReportFormatError, load_report, render_any
    try:
        text = render_any(load_report(args.report), args.format)
    except ReportFormatError as exc:
        print(f"payments-guard: error: {exc}", file=sys.stderr)
        return 2
    return 0 if _write_report(text, args.output) else 2


def _write_report(text: str, output: Optional[str]) -> bool:
    """The report to `output`, or stdout without one; False (said on stderr) when it cannot be written."""
    if not output:
        sys.stdout.write(text)
        return True
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        print(f"payments-guard: error: cannot write the report to {output}: {exc.strerror}", file=sys.stderr)
        return False
    return True


def _split_list(values: Optional[Sequence[str]]) -> Optional[List[str]]:
    items = [item.strip() for value in values or () for item in value.split(",") if item.strip()]
    return items or None


def _pack(args: argparse.Namespace) -> int:
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
    projects = []
    for project in pulumi_projects(args.files, os.getcwd()):
        runtime = project_runtime(project)
        if runtime != "python":  # a repository may hold projects in other languages
            if not args.quiet:
                print(f"payments-guard: {project}: runtime {runtime!r}, not checked (Python programs only)",
                      file=sys.stderr)
            continue
        projects.append(project)
    if not projects:
        return 0
    argv = ["check", *projects, "--stack", args.stack, "--mode", args.mode]  # one report of them all
    for flag, value in (("--policy-config", args.policy_config), ("--baseline", args.baseline)):
        if value:
            argv += [flag, value]
    for pattern in args.allow_unseen:
        argv += ["--allow-unseen", pattern]
    if args.quiet:
        argv.append("--quiet")
    return main(argv)


def _presets(args: argparse.Namespace) -> int:
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


def _progress(args: argparse.Namespace):
    def progress(message: str) -> None:
        if not args.quiet:
            print(f"payments-guard: {message}", file=sys.stderr, flush=True)
    return progress


def _settings(args: argparse.Namespace, progress):
    from .offline.evaluate import PackSettings
    return PackSettings(pack=os.path.abspath(args.pack) if args.pack else SERVED_PACK_DIR,
                        policy_config=args.policy_config, baseline=args.baseline, timeout=args.timeout,
                        progress=progress)


def _check(args: argparse.Namespace) -> int:
    missing = missing_check_dependencies()
    if missing:
        return _missing_extra(missing)
    from .offline.check import CheckOptions, ProgramSource
    from .offline.evaluate import evaluate
    from .offline.many import python_programs
    progress = _progress(args)
    programs = list(args.programs)
    if args.all_root:
        if not os.path.isdir(args.all_root):
            return _usage_error(f"--all: {args.all_root} is not a directory")
        found = python_programs(args.all_root)
        if not found:
            return _usage_error(f"--all: no Python program (Pulumi.yaml) below {args.all_root}")
        programs += [p for p in found if os.path.abspath(p) not in {os.path.abspath(q) for q in programs}]
    if not programs:
        return _usage_error("check needs a PROGRAM directory (or --all ROOT)")
    config, secrets = _pairs(args.config, "--config"), _pairs(args.secret, "--secret")
    several = len(programs) > 1 or bool(args.all_root)

    def job(program: str):
        settings = _settings(args, None if several else progress)
        options = CheckOptions(program=program, stack=args.stack, config=dict(config), secrets=dict(secrets),
                               policy_config=settings.policy_config, pack=settings.pack, mode=args.mode,
                               timeout=args.timeout, account=args.account, region=args.region,
                               invoke_answers=args.invoke_answers, baseline=args.baseline,
                               progress=settings.progress, python=args.python,
                               allow_unseen=list(args.allow_unseen))
        return lambda: evaluate(ProgramSource(options), options.pack_settings())

    return _run(args, [(p, job(p)) for p in programs], several, progress)


def _audit(args: argparse.Namespace) -> int:
    from .offline.evaluate import evaluate
    from .offline.many import export_files
    from .offline.state import ExportSource
    progress = _progress(args)
    exports, several = export_files(args.exports)
    if exports.count("-") > 1:
        return _usage_error("standard input (-) can be read once")
    if not exports:
        return _usage_error(f"no export files (*.json) in {', '.join(args.exports)}")

    def job(path: str):
        settings = _settings(args, None if several else progress)
        return lambda: evaluate(ExportSource(path), settings)

    return _run(args, [(p, job(p)) for p in exports], several, progress)


def _run(args: argparse.Namespace, jobs, several: bool, progress) -> int:
    """One input: today's report of one stack; several: one report of them all."""
    import json

    from .offline.pipeline import CheckError
    from .offline.many import run_many
    from .offline.reports import render, render_batch
    if several:
        if args.jobs < 1:
            return _usage_error("--jobs takes a number of at least 1")
        if args.baseline:  # read once up front: a bad baseline is the run's error, not each input's
            from .offline.pipeline import load_baseline
            try:
                load_baseline(args.baseline)
            except CheckError as exc:
                print(f"payments-guard: error: {exc}", file=sys.stderr)
                return 2
        result = run_many(jobs, args.jobs, progress)
        for error in result.errors:
            print(f"payments-guard: error: {error['error']}", file=sys.stderr)
        baseline, count = result.baseline, sum(len(r.violations) for r in result.reports)
        exit_code = result.exit_code
    else:
        try:
            result = jobs[0][1]()
        except CheckError as exc:
            print(f"payments-guard: error: {exc}", file=sys.stderr)
            return 2
        baseline, count, exit_code = result.baseline, len(result.violations), result.exit_code
    if args.write_baseline:
        try:
            with open(args.write_baseline, "w", encoding="utf-8") as handle:
                json.dump(baseline(), handle, indent=2)
                handle.write("\n")
        except OSError as exc:
            print(f"payments-guard: error: cannot write the baseline {args.write_baseline}: {exc.strerror}",
                  file=sys.stderr)
            return 2
        progress(f"wrote baseline {args.write_baseline} ({count} violations)")
    text = render_batch(result, args.format) if several else render(result, args.format)
    if not _write_report(text, args.output):
        return 2
    if not several and exit_code == 2:
        print(f"payments-guard: error: {result.cause or 'the program failed'}", file=sys.stderr)
    return exit_code


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
        if args.command == "audit":
            return _audit(args)
        if args.command == "list":
            from .catalogue import render_listing
            sys.stdout.write(render_listing(args.format))
            return 0
        if args.command == "docs":
            from .catalogue import write_docs
            return write_docs(args.output, check=args.check)
        if args.command == "pack":
            return _pack(args)
        if args.command == "render":
            return _render(args)
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
