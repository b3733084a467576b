"""The offline check: program runner -> analyzer client -> report.

`run_check(CheckOptions(...))` returns a `Report`; it raises `CheckError` (exit status 2) when the
check could not run: bad configuration, a program that hung or died, a pack that failed.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, Tuple

from .interpreter import EnvironmentMissing, Interpreter, start_probe
from .interpreter import pick as pick_interpreter
from .policy_config import PolicyConfigError, load_file
from .runner import config_string
# client (grpc), findings and the analysis are imported once the program runner is started: it
# is the long pole, and the check's own imports need not delay it.

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(PACKAGE_DIR)
MODES = ("update", "preview")


class CheckError(Exception):
    """The check could not run; the message is the one-line cause."""


@dataclass
class CheckOptions:
    program: str
    stack: str = "dev"
    config: Dict[str, str] = field(default_factory=dict)        # KEY=VALUE from --config
    secrets: Dict[str, str] = field(default_factory=dict)       # KEY=VALUE from --secret
    policy_config: Optional[str] = None                          # --policy-config FILE
    pack: str = REPO_ROOT                                        # --pack DIR
    mode: str = "update"
    timeout: float = 300.0
    organization: str = "organization"
    account: str = "123456789012"
    region: Optional[str] = None
    invoke_answers: Optional[str] = None
    baseline: Optional[str] = None                               # --baseline FILE
    python: Optional[str] = None                                 # --python: interpreter for every program
    allow_unseen: List[str] = field(default_factory=list)        # --allow-unseen TYPE_GLOB (repeatable)
    progress: Optional[Callable[[str], None]] = None
    stack_tags: Dict[str, str] = field(default_factory=dict)


@dataclass
class Report:
    pack: Dict[str, str]
    project: str
    stack: str
    mode: str
    program: str
    resources: int = 0
    policies: List[Dict[str, Any]] = field(default_factory=list)
    violations: List[Dict[str, Any]] = field(default_factory=list)
    program_findings: List[Dict[str, Any]] = field(default_factory=list)
    remediations: List[Dict[str, Any]] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    not_applicable: List[Dict[str, str]] = field(default_factory=list)
    duration_seconds: float = 0.0
    cause: str = ""                                              # set when the program failed
    interpreter: Optional[Dict[str, Any]] = None                 # which Python ran the program, and why
    allow_unseen: List[str] = field(default_factory=list)        # --allow-unseen globs in force

    def unseen_components(self) -> int:
        """Multi-language components whose children no policy evaluated."""
        return sum(1 for f in self.program_findings if f.get("id") == "program-unseen-component")

    @property
    def exit_code(self) -> int:
        if any(f["level"] == "error" for f in self.program_findings):
            return 2
        if any(v["enforcementLevel"] == "mandatory" and not v.get("baselined") for v in self.violations):
            return 1
        if any(f["level"] == "mandatory" for f in self.program_findings):
            return 1
        return 0

    def counts(self) -> Dict[str, int]:
        counts = {"mandatory": 0, "advisory": 0, "baselined": 0}
        for v in self.violations:
            if v.get("baselined"):
                counts["baselined"] += 1
            else:
                counts[v["enforcementLevel"]] = counts.get(v["enforcementLevel"], 0) + 1
        return counts

    def apply_baseline(self, baseline: Mapping[str, Any]) -> None:
        known = {entry.get("fingerprint") for entry in baseline.get("violations", []) if isinstance(entry, dict)}
        for violation in self.violations:
            violation["baselined"] = violation["fingerprint"] in known

    def baseline(self) -> Dict[str, Any]:
        return {"version": 1, "pack": self.pack, "project": self.project, "stack": self.stack,
                "violations": [{k: v[k] for k in ("fingerprint", "policyName", "urn", "property",
                                                  "enforcementLevel")}
                               for v in sorted(self.violations, key=lambda v: (v["policyName"], v["urn"]))]}


# --- program and stack configuration -------------------------------------------------------
def _yaml(path: str) -> Any:
    import yaml
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle) or {}
    except OSError as exc:
        raise CheckError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise CheckError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc


def load_project(program: str) -> Dict[str, Any]:
    if not os.path.isdir(program):
        raise CheckError(f"program directory {program} does not exist")
    for name in ("Pulumi.yaml", "Pulumi.yml"):
        path = os.path.join(program, name)
        if os.path.exists(path):
            project = _yaml(path)
            if not isinstance(project, dict) or not isinstance(project.get("name"), str):
                raise CheckError(f"{path} has no project name")
            runtime = project.get("runtime")
            runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
            if runtime_name != "python":
                raise CheckError(f"{path}: runtime is {runtime_name!r}; the offline check runs Python programs")
            return project
    raise CheckError(f"{program} has no Pulumi.yaml")


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def stack_config(program: str, project: Dict[str, Any], options: CheckOptions) -> Tuple[Dict[str, str], List[str], List[str]]:
    """(config, secret keys, warnings): project defaults < Pulumi.<stack>.yaml < --config/--secret."""
    name = project["name"]
    config: Dict[str, str] = {}
    secret_keys: List[str] = []
    warnings: List[str] = []
    declared = project.get("config") if isinstance(project.get("config"), dict) else {}
    for key, spec in declared.items():
        value = spec.get("default", spec.get("value")) if isinstance(spec, dict) else spec
        if value is not None:
            config[_qualify(str(key), name)] = config_string(value)
    stack_file = os.path.join(program, f"Pulumi.{options.stack}.yaml")
    if os.path.exists(stack_file):
        data = _yaml(stack_file)
        entries = data.get("config") if isinstance(data, dict) else None
        for key, value in (entries or {}).items():
            qualified = _qualify(str(key), name)
            if isinstance(value, dict) and set(value) == {"secure"}:
                if any(_qualify(given, name) == qualified for given in list(options.secrets) + list(options.config)):
                    continue  # supplied on the command line
                warnings.append(f"config {qualified} is encrypted (secure:) and cannot be decrypted offline: "
                                f"pass --secret {key}=VALUE to supply it")
                continue
            config[qualified] = config_string(value)
    for key, value in options.config.items():
        config[_qualify(key, name)] = value
    for key, value in options.secrets.items():
        qualified = _qualify(key, name)
        config[qualified] = value
        secret_keys.append(qualified)
    return config, secret_keys, warnings


def load_baseline(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise CheckError(f"cannot read baseline {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise CheckError(f"baseline {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("violations"), list):
        raise CheckError(f"baseline {path} is not a payments-guard baseline (write one with --write-baseline)")
    return data


# --- the program run -----------------------------------------------------------------------
class ProgramRun:
    """The program runner child process: started first (it is the long pole), collected later."""

    def __init__(self, options: CheckOptions, project: Dict[str, Any], config: Dict[str, str],
                 secret_keys: List[str], region: str) -> None:
        invoke_answers = {}
        if options.invoke_answers:
            try:
                with open(options.invoke_answers, encoding="utf-8") as handle:
                    invoke_answers = json.load(handle)
            except (OSError, ValueError) as exc:
                raise CheckError(f"cannot read invoke answers {options.invoke_answers}: {exc}") from exc
            if not isinstance(invoke_answers, dict):
                raise CheckError(f"invoke answers {options.invoke_answers} must be an object keyed by invoke token")
        self.options = options
        project_root = os.path.abspath(options.program)
        program_dir, entry = program_entry(project_root, project)
        self.process = None
        self.tmp = tempfile.mkdtemp(prefix="payments-guard-")
        self.out_path = os.path.join(self.tmp, "result.json")
        self.err = open(os.path.join(self.tmp, "stderr.txt"), "w+b")
        # `python3` on PATH is probed for pulumi (one interpreter start); meanwhile the program
        # starts under the check's own interpreter, and is restarted only if the probe says so.
        deferred: List[str] = []

        def defer(path: str) -> bool:
            deferred.append(path)
            return False

        try:
            self.interpreter: Optional[Interpreter] = pick_interpreter(project_root, program_dir, project,
                                                                       options.python, probe=defer)
        except EnvironmentMissing as exc:
            self.interpreter = None
            self.missing = exc
            return
        self.probes = [(path, start_probe(path)) for path in deferred]
        spec = {"program": program_dir, "projectRoot": project_root, "main": entry,
                "project": project["name"], "stack": options.stack, "organization": options.organization,
                "mode": options.mode, "account": options.account, "region": region, "config": config,
                "secretKeys": secret_keys, "invokeAnswers": invoke_answers,
                "allowUnseen": list(options.allow_unseen)}
        self.spec_path = os.path.join(self.tmp, "spec.json")
        with open(self.spec_path, "w", encoding="utf-8") as handle:
            json.dump(spec, handle)
        # Only the policypack package reaches the program's interpreter: the check's site-packages
        # would shadow the program's own pulumi and providers.
        self.path_dir = os.path.join(self.tmp, "path")
        os.mkdir(self.path_dir)
        _link_package(self.path_dir)
        self.program_dir = program_dir
        self._launch()

    def _launch(self) -> None:
        env = self.interpreter.environ(os.environ)
        env["PYTHONPATH"] = self.path_dir + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONUNBUFFERED"] = "1"
        argv = [self.interpreter.executable, "-m", "policypack.offline.runner", self.spec_path, self.out_path]
        self.process = subprocess.Popen(argv, cwd=self.program_dir, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self.err, stderr=self.err, start_new_session=True)

    def _settle_probes(self, deadline: float) -> None:
        """The first probed `python3`/`python` that has pulumi takes over from the check's own."""
        probes, self.probes = self.probes, []
        for path, probe in probes:
            try:
                has_pulumi = probe.wait(max(0.1, deadline - time.monotonic())) == 0
            except subprocess.TimeoutExpired:
                probe.kill()
                has_pulumi = False
            if has_pulumi:
                for _other, rest in probes:
                    if rest.poll() is None:
                        rest.kill()
                        rest.wait()
                _kill_group(self.process)
                self.err.seek(0)
                self.err.truncate()
                if os.path.exists(self.out_path):
                    os.remove(self.out_path)
                self.interpreter = Interpreter(path, "python3", f"`{os.path.basename(path)}` on PATH ({path}) has "
                                                                "pulumi; the project names no virtualenv or toolchain")
                self._launch()
                return

    def result(self, deadline: float) -> Dict[str, Any]:
        if self.process is None:
            return self._missing_result()
        self._settle_probes(deadline)
        try:
            self.process.wait(max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise CheckError(f"the program did not finish within {self.options.timeout:g}s (--timeout)") from None
        finally:
            _kill_group(self.process)
        self.err.seek(0)
        stderr = self.err.read().decode("utf-8", "replace")
        if not os.path.exists(self.out_path):
            tail = " | ".join([l for l in stderr.splitlines() if l.strip()][-3:]) or "no output"
            raise CheckError(f"the program exited early (status {self.process.returncode}) before it finished "
                             f"registering resources: {tail}")
        with open(self.out_path, encoding="utf-8") as handle:
            result = json.load(handle)
        result["interpreter"] = self.interpreter.as_dict() if self.interpreter else None
        return result

    def _missing_result(self) -> Dict[str, Any]:
        exc = self.missing
        create = f" Create it with `{exc.command}` in {self.options.program}." if exc.command else ""
        return {"resources": [], "reads": [], "invokes": [], "unseen": [], "warnings": [], "interpreter": None,
                "error": {"id": "program-environment-missing", "level": "error", "command": exc.command,
                          "message": f"The program's Python environment is missing: {exc}.{create}",
                          "traceback": "", "source": None, "exceptionType": ""}}

    def close(self) -> None:
        """Always: the runner's process group is killed and its scratch directory removed."""
        for _path, probe in getattr(self, "probes", []):
            if probe.poll() is None:
                probe.kill()
                probe.wait()
        if self.process is not None:
            _kill_group(self.process)
        self.err.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def program_entry(project_root: str, project: Mapping[str, Any]) -> Tuple[str, Optional[str]]:
    """(program directory, entry point) as the CLI gives them to the language host: `main:` names a
    directory (the program directory) or a file (run from its directory)."""
    main = project.get("main")
    if not isinstance(main, str) or not main.strip():
        return project_root, None
    path = os.path.normpath(os.path.join(project_root, main))
    if os.path.isdir(path):
        return path, None
    if os.path.isfile(path):
        return os.path.dirname(path), path
    raise CheckError(f"Pulumi.yaml main: {main} does not exist in {project_root}")


def _link_package(directory: str) -> None:
    """`directory/policypack` -> this package (a copy where symlinks are not allowed)."""
    target = os.path.join(directory, "policypack")
    try:
        os.symlink(PACKAGE_DIR, target, target_is_directory=True)
    except OSError:
        shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def run_program(options: CheckOptions, project: Dict[str, Any], config: Dict[str, str],
                secret_keys: List[str], region: str, deadline: float) -> Dict[str, Any]:
    run = ProgramRun(options, project, config, secret_keys, region)
    try:
        return run.result(deadline)
    finally:
        run.close()


def _kill_group(process: subprocess.Popen) -> None:
    import signal
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        pass


# --- the whole check -----------------------------------------------------------------------
def pack_env(options: CheckOptions, project: str, config: Mapping[str, str], secret_keys: List[str]) -> Dict[str, str]:
    """The environment the Python host gives a pack (the CLI exports the stack and its config)."""
    env = dict(os.environ)
    env.update({"PULUMI_STACK": options.stack, "PULUMI_PROJECT": project,
                "PULUMI_ORGANIZATION": options.organization,
                "PULUMI_DRY_RUN": "true" if options.mode == "preview" else "false",
                "PULUMI_CONFIG": json.dumps(dict(config))})
    env.pop("PULUMI_CONFIG_SECRET_KEYS", None)  # the Python host does not set it
    return env


def run_check(options: CheckOptions) -> Report:
    started = time.monotonic()
    deadline = started + options.timeout
    if options.mode not in MODES:
        raise CheckError(f"--mode must be one of {', '.join(MODES)}")
    program = os.path.abspath(options.program)
    project = load_project(program)
    config, secret_keys, warnings = stack_config(program, project, options)
    region = options.region or config.get("aws:region") or "us-east-1"
    config.setdefault("aws:region", region)
    try:
        user_policy_config = load_file(options.policy_config) if options.policy_config else None
    except PolicyConfigError as exc:
        raise CheckError(str(exc)) from exc
    baseline = load_baseline(options.baseline) if options.baseline else None
    if not os.path.exists(os.path.join(options.pack, "__main__.py")):
        raise CheckError(f"{options.pack} is not a Python policy pack (no __main__.py)")
    progress = options.progress or (lambda message: None)

    progress(f"running {program} ({options.mode} mode)")
    program_run = ProgramRun(options, project, config, secret_keys, region)
    try:
        from . import findings as F
        from .client import PackError, PackProcess
        pack = PackProcess(options.pack, pack_env(options, project["name"], config, secret_keys),
                           timeout=max(1.0, min(options.timeout, 120.0)))
        pack_error: List[BaseException] = []

        def start_pack() -> None:
            try:
                pack.start()
            except BaseException as exc:  # noqa: BLE001 - reported after the program ran
                pack_error.append(exc)

        # The pack starts while the program runs: the two take about as long as each other.
        starter = threading.Thread(target=start_pack, daemon=True)
        starter.start()
        try:
            result = program_run.result(deadline)
            report = Report(pack={}, project=project["name"], stack=options.stack, mode=options.mode,
                            program=program)
            report.interpreter, report.allow_unseen = result.get("interpreter"), list(options.allow_unseen)
            report.warnings = warnings + list(result.get("warnings", []))
            report.program_findings = F.program_findings(result, options.stack, project["name"])
            starter.join(max(0.1, deadline - time.monotonic()))
            if pack_error:
                raise CheckError(str(pack_error[0]))
            if starter.is_alive():
                raise CheckError("the policy pack did not start within the timeout")
            pack.deadline = deadline
            if result.get("error"):
                report.cause = result["error"]["message"]
                info = pack.analyzer_info()
                report.pack = {"name": info.name, "version": info.version}
                report.duration_seconds = time.monotonic() - started
                return report
            _analyze(pack, options, project["name"], config, secret_keys, user_policy_config, result, report,
                     progress)
            if baseline is not None:
                report.apply_baseline(baseline)
            report.duration_seconds = time.monotonic() - started
            return report
        except PackError as exc:
            raise CheckError(str(exc)) from exc
        except PolicyConfigError as exc:
            raise CheckError(str(exc)) from exc
        finally:
            starter.join(5)
            pack.stop()
    finally:
        program_run.close()


def _analyze(pack: Any, options: CheckOptions, project: str, config: Dict[str, str],
             secret_keys: List[str], user_policy_config: Optional[Dict[str, Any]], result: Dict[str, Any],
             report: Report, progress: Callable[[str], None]) -> None:
    from . import findings as F
    from .client import SEVERITY_NAMES, analyze_request, stack_resource
    from .policy_config import build as build_policy_config
    pack.handshake(os.path.abspath(options.program), os.path.abspath(options.program))
    pack.configure_stack(options.stack, project, options.organization, options.mode == "preview",
                         config, secret_keys, options.stack_tags)
    info = pack.analyzer_info()
    report.pack = {"name": info.name, "version": info.version}
    policy_config = build_policy_config(info, user_policy_config, where=options.policy_config or "policy config",
                                        warnings=report.warnings)
    pack.configure(policy_config)
    severities = {p.name: SEVERITY_NAMES.get(p.severity, "") for p in info.policies}
    report.policies = [{"name": p.name, "description": p.description,
                        "enforcementLevel": policy_config[p.name]["enforcementLevel"],
                        "severity": severities[p.name], "url": p.url,
                        "kind": "stack" if p.policy_type == 2 else "resource"} for p in info.policies]

    resources = [r for r in result["resources"]]
    by_urn = {r["urn"]: r for r in resources}
    providers = {}
    for r in resources:
        if r["type"].startswith("pulumi:providers:"):
            providers[f"{r['urn']}::{r['id']}"] = r
            providers.setdefault(r["urn"], r)

    def provider_of(resource: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
        """The engine sends a provider only for custom resources that are not providers."""
        ref = resource.get("provider") or ""
        if not ref or not resource.get("custom") or resource["type"].startswith("pulumi:providers:"):
            return None
        return providers.get(ref) or providers.get(ref.rsplit("::", 1)[0])

    # The engine analyzes every registered resource: custom ones, components, providers (default
    # ones included, before their first user) and the root stack.
    analyzed = resources
    report.resources = len([r for r in resources if r["type"] != "pulumi:pulumi:Stack"])
    if any(v["enforcementLevel"] == "remediate" for v in policy_config.values()):
        progress(f"remediating {len(analyzed)} resources")
        replies = pack.map_calls("Remediate", [analyze_request(r, provider_of(r)) for r in analyzed])
        for resource, reply in zip(analyzed, replies):
            F.apply_remediations(resource, reply, report)
    progress(f"analyzing {len(analyzed)} resources")
    step = max(1, len(analyzed) // 10)

    def tick(done: int, total: int) -> None:
        if total >= 1000 and (done % step == 0 or done == total):
            progress(f"analyzed {done}/{total} resources")

    replies = pack.map_calls("Analyze", [analyze_request(r, provider_of(r)) for r in analyzed], progress=tick)
    for resource, reply in zip(analyzed, replies):
        F.collect(reply, resource, by_urn, severities, report)
    progress("analyzing the stack")
    from pulumi.runtime import proto
    stack_request = proto.AnalyzeStackRequest(resources=[stack_resource(r, provider_of(r)) for r in resources])
    reply = pack.call("AnalyzeStack", stack_request)
    F.collect(reply, None, by_urn, severities, report)
