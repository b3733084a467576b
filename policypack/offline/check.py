"""The offline check's source: a Pulumi Python program run under the recording mock monitor.

`run_check(CheckOptions(...))` returns a `Report`; it raises `CheckError` (exit status 2) when the
check could not run: bad configuration, a program that hung or died, a pack that failed. The
program's resources go through the same evaluator (evaluate.py) as a state export's (state.py).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, Tuple

from .evaluate import REPO_ROOT, PackSettings, evaluate, pack_environment
from .pipeline import CheckError, Evaluation, Report, StackContext, load_baseline
from .interpreter import PROBE_TIMEOUT, EnvironmentMissing, Interpreter, start_probe
from .interpreter import pick as pick_interpreter
from .wire import config_string
# client (grpc), findings and the analysis are imported once the program runner is started (see
# evaluate.py): it is the long pole, and the check's own imports need not delay it.

MODES = ("update", "preview")
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
__all__ = ["CheckError", "CheckOptions", "Report", "ProgramSource", "load_baseline", "load_project", "run_check",
           "run_program", "stack_config"]


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

    def pack_settings(self) -> PackSettings:
        return PackSettings(pack=self.pack, policy_config=self.policy_config, baseline=self.baseline,
                            timeout=self.timeout, progress=self.progress)


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
        self.probe: Optional[subprocess.Popen] = None
        self.gate: Optional[int] = None
        self.settler: Optional[threading.Thread] = None
        self.lock = threading.Lock()
        self.closed = False
        self.tmp = tempfile.mkdtemp(prefix="payments-guard-")
        self.out_path = os.path.join(self.tmp, "result.json")
        self.err = open(os.path.join(self.tmp, "stderr.txt"), "w+b")
        try:
            # never probed here: when the host would run a bare `python3`, the check probes it
            # below, while its own interpreter starts the runner
            self.interpreter: Optional[Interpreter] = pick_interpreter(project_root, program_dir, project,
                                                                       options.python, probe=lambda path: False)
        except EnvironmentMissing as exc:
            self.interpreter = None
            self.missing = exc
            return
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
        bare = self.interpreter.instead_of
        if bare is None:
            self._launch()
            return
        # The host would run `python3`; the check does only if it has pulumi. Probing it costs one
        # interpreter start (over a second through a pyenv shim under load), so the probe runs while
        # the check's own interpreter starts the runner, which stops at a gate just before the
        # program: the program runs once, under whichever interpreter the probe settles on.
        self.probe = start_probe(bare.executable, program_dir)
        gate_read, self.gate = os.pipe()
        try:
            self._launch(gate_read)
        finally:
            os.close(gate_read)
        self.settler = threading.Thread(target=self._settle, args=(bare,), name="python3-probe", daemon=True)
        self.settler.start()

    def _launch(self, gate: Optional[int] = None) -> None:
        env = self.interpreter.environ(os.environ)
        env["PYTHONPATH"] = self.path_dir + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONUNBUFFERED"] = "1"
        argv = [self.interpreter.executable, "-m", "policypack.offline.runner", self.spec_path, self.out_path]
        if gate is not None:
            argv += ["--gate", str(gate)]
        self.process = subprocess.Popen(argv, cwd=self.program_dir, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self.err, stderr=self.err, start_new_session=True,
                                        pass_fds=() if gate is None else (gate,))

    def _settle(self, bare: Interpreter) -> None:
        """The probe's answer opens the gate (the check's own interpreter runs the program) or
        replaces the gated runner, which has not run the program, by one under `python3`."""
        try:
            has_pulumi = self.probe.wait(PROBE_TIMEOUT) == 0
        except subprocess.TimeoutExpired:
            self.probe.kill()
            self.probe.wait()
            has_pulumi = False
        with self.lock:
            if self.closed:
                return
            gate, self.gate = self.gate, None
            try:
                if not has_pulumi:
                    os.write(gate, b"r")
            except OSError:
                pass  # the runner already exited; its result (or its absence) tells why
            finally:
                os.close(gate)  # without "r": end of file, the gated runner exits without the program
            if has_pulumi:
                _kill_group(self.process)
                self.err.seek(0)
                self.err.truncate()
                if os.path.exists(self.out_path):
                    os.remove(self.out_path)
                self.interpreter = bare
                self._launch()

    def result(self, deadline: float) -> Dict[str, Any]:
        if self.process is None:
            return self._missing_result()
        if self.settler is not None:
            self.settler.join(max(0.1, deadline - time.monotonic()))
            if self.settler.is_alive():
                raise CheckError(f"the program did not finish within {self.options.timeout:g}s (--timeout)")
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
        error = result.get("error") or {}
        if error.get("id") == "program-environment-unsupported" and self.interpreter is not None:
            error["message"] += f" (the interpreter: {self.interpreter.executable}, because {self.interpreter.reason})"
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
        with self.lock:
            self.closed = True
            if self.gate is not None:
                os.close(self.gate)
                self.gate = None
        if self.probe is not None and self.probe.poll() is None:
            self.probe.kill()
            self.probe.wait()
        if self.settler is not None:
            self.settler.join()
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


# --- the program as a source of resources ---------------------------------------------------
def pack_env(options: CheckOptions, project: str, config: Mapping[str, str], secret_keys: List[str]) -> Dict[str, str]:
    """The environment the Python host gives a pack (the CLI exports the stack and its config)."""
    return pack_environment(StackContext(options.stack, project, options.organization, options.mode == "preview",
                                         dict(config), list(secret_keys), dict(options.stack_tags)))


class ProgramSource:
    """A program directory: configuration read first, the program run in a child process while
    the pack starts, its recording handed to the evaluator."""

    def __init__(self, options: CheckOptions) -> None:
        self.options = options
        self.run: Optional[ProgramRun] = None

    def prepare(self) -> StackContext:
        options = self.options
        if options.mode not in MODES:
            raise CheckError(f"--mode must be one of {', '.join(MODES)}")
        self.program = os.path.abspath(options.program)
        self.project = load_project(self.program)
        self.config, self.secret_keys, self.warnings = stack_config(self.program, self.project, options)
        self.region = options.region or self.config.get("aws:region") or "us-east-1"
        self.config.setdefault("aws:region", self.region)
        return StackContext(options.stack, self.project["name"], options.organization, options.mode == "preview",
                            self.config, self.secret_keys, dict(options.stack_tags))

    def start(self) -> None:
        if self.options.progress:
            self.options.progress(f"running {self.program} ({self.options.mode} mode)")
        self.run = ProgramRun(self.options, self.project, self.config, self.secret_keys, self.region)

    def collect(self, deadline: float) -> Evaluation:
        from . import findings as F  # (grpc: once the program runs, see above)
        result = self.run.result(deadline)
        name = self.project["name"]
        evaluation = Evaluation(label=self.program, project=name, stack=self.options.stack, mode=self.options.mode,
                                resources=list(result["resources"]),
                                warnings=self.warnings + list(result.get("warnings", [])),
                                program_findings=F.program_findings(result, self.options.stack, name),
                                interpreter=result.get("interpreter"), allow_unseen=list(self.options.allow_unseen))
        if result.get("error"):
            evaluation.cause = result["error"]["message"]
        return evaluation

    def close(self) -> None:
        if self.run is not None:
            self.run.close()


def run_check(options: CheckOptions) -> Report:
    return evaluate(ProgramSource(options), options.pack_settings())
