"""The recording mock monitor the program runner installs (imported only in the runner child: it
needs the program's own pulumi).

What the engine does between a program's RegisterResource and a policy pack, done here:
transforms (resource's own, then its ancestors' nearest first, then the stack's, each seeing the
previous result: pkg/resource/deploy/source_eval.go), default providers, outputs (fabricated in
update mode, unknown in preview), and remote components, whose children only their plugin can
build: recorded as unseen, their outputs unknown as at a first preview.
"""
from __future__ import annotations

import asyncio
import fnmatch
from typing import Any, Callable, Dict, List, Optional, Tuple

from google.protobuf import empty_pb2, json_format
from pulumi.runtime import mocks as M
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

from . import urns as U
from .fabricate import fabricate
from .invokes import answer_invoke
from .recording import Recorder
from ..props import SECRET_SIG, SIG_KEY
from .wire import UNKNOWN_ID, engine_wire, fill_missing, json_safe, unknown_like

# As sdk/python/lib/pulumi/runtime/rpc.py spells an unknown value on the wire.
_UNKNOWN_WIRE = rpc.UNKNOWN


class RecordingMocks(M.Mocks):
    """Invokes: the built-in answers (invokes.py), in the region of the provider they go through."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.user_answers = recorder.spec.get("invokeAnswers") or {}

    def new_resource(self, args):  # pragma: no cover - RecordingMonitor does the work
        return "", {}

    def call(self, args):
        recorder = self.recorder
        env = recorder.env_for_provider(args.provider)
        answer = answer_invoke(args.token, dict(args.args or {}), env, self.user_answers)
        with recorder.lock:
            recorder.invokes.append({"token": args.token, "answered": answer is not None, "region": env.region})
        if answer is None:
            recorder.warnings.append(
                f"invoke {args.token} has no built-in answer: returned an empty result "
                "(answer it with --invoke-answers FILE)")
            return {}
        return answer


def _callback(token: str) -> Optional[Callable[[bytes], Any]]:
    """The SDK's own callback for a transform token (the engine calls it over the callbacks
    service; the servicer lives in this process, so the check calls it directly)."""
    from pulumi.runtime._callbacks import _CallbackServicer
    for servicer in _CallbackServicer._servicers:
        found = servicer._callbacks.get(token)
        if found is not None:
            return found
    return None


def _transform_options(request, provider: str) -> resource_pb2.TransformResourceOptions:
    """The options the engine hands a transform (source_eval.go RegisterResource)."""
    opts = resource_pb2.TransformResourceOptions(
        depends_on=list(request.dependencies), protect=request.protect, ignore_changes=list(request.ignoreChanges),
        replace_on_changes=list(request.replaceOnChanges), version=request.version, provider=provider,
        plugin_download_url=request.pluginDownloadURL, retain_on_delete=request.retainOnDelete,
        deleted_with=request.deletedWith, additional_secret_outputs=list(request.additionalSecretOutputs))
    if request.deleteBeforeReplaceDefined:
        opts.delete_before_replace = request.deleteBeforeReplace
    opts.providers.update(dict(request.providers))
    if request.HasField("customTimeouts"):
        opts.custom_timeouts.CopyFrom(request.customTimeouts)
    opts.aliases.extend(request.aliases)
    return opts


class RecordingMonitor(M.MockMonitor):
    def __init__(self, mocks: RecordingMocks, recorder: Recorder, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(mocks)
        self.recorder = recorder
        self.loop = loop
        self.own_transforms: Dict[str, List[Callable]] = {}   # urn -> its own transforms
        self.parents: Dict[str, str] = {}
        self.stack_transforms: List[Callable] = []
        self.allow_unseen: List[str] = list(recorder.spec.get("allowUnseen") or [])

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return self.recorder.urn(type_, name, parent)

    # -- transforms --------------------------------------------------------------------------
    def RegisterStackTransform(self, request):
        found = _callback(request.token)
        if found is not None:
            self.stack_transforms.append(found)
        return empty_pb2.Empty()

    def _run_transforms(self, request, urn: str, provider: str):
        """(properties Struct, TransformResourceOptions or None): the request after every transform."""
        own = [cb for cb in (_callback(t.token) for t in request.transforms) if cb is not None]
        self.own_transforms[urn] = own
        chain = list(own)
        current = request.parent
        while current:
            chain.extend(self.own_transforms.get(current, ()))
            current = self.parents.get(current, "")
        chain.extend(self.stack_transforms)
        if not chain:
            return request.object, None
        properties, options = request.object, _transform_options(request, provider)
        for callback in chain:
            message = resource_pb2.TransformRequest(type=request.type, name=request.name, custom=request.custom,
                                                    parent=request.parent, properties=properties, options=options)
            # The program's event loop is free while it waits for this registration: run the
            # (possibly async) transform there, as the callbacks server would.
            future = asyncio.run_coroutine_threadsafe(callback(message.SerializeToString()), self.loop)
            response = resource_pb2.TransformResponse.FromString(future.result().SerializeToString())
            if response.HasField("properties"):
                properties = response.properties
            if response.HasField("options"):
                options = response.options
        return properties, options

    # -- registration ------------------------------------------------------------------------
    def RegisterResource(self, request):
        recorder = self.recorder
        urn = self.make_urn(request.parent, request.type, request.name)
        self.parents[urn] = request.parent
        if request.type == U.ROOT_STACK_TYPE:
            record = {"urn": urn, "type": request.type, "name": request.name, "custom": False,
                      "parent": "", "provider": "", "dependencies": [], "propertyDependencies": {},
                      "inputs": {}, "outputs": {}, "id": "", "source": None, "options": {}}
            with recorder.lock:
                recorder.resources.append(record)
                recorder.by_urn[urn] = record
            return resource_pb2.RegisterResourceResponse(urn=urn)
        M._ensure_event_loop()
        is_provider = request.type.startswith("pulumi:providers:")
        properties, options = self._run_transforms(request, urn, request.provider)
        provider = options.provider if options is not None else request.provider
        version = options.version if options is not None else request.version
        wire_inputs = {k: v for k, v in engine_wire(json_format.MessageToDict(properties)).items()
                       if not k.startswith("__")}
        inputs = rpc.deserialize_properties(properties, keep_unknowns=True)
        if is_provider and version and "version" not in wire_inputs:
            # the engine adds the plugin version to explicit providers' inputs too
            wire_inputs["version"] = version
        if (request.custom or request.remote) and not provider and not is_provider:
            provider = recorder.default_provider_ref(request.type.split(":", 1)[0], version)
        if request.remote:
            id_, outputs, wire_outputs = self._unseen_component(request, urn)
        else:
            id_, outputs, wire_outputs = self._outputs(request, inputs, wire_inputs, is_provider, urn, provider)
        record = self._record(request, urn, provider, version, options, wire_inputs, wire_outputs, id_)
        with recorder.lock:
            recorder.resources.append(record)
            recorder.by_urn[urn] = record
            # pulumi:pulumi:getResource (resource references) answers from this map
            self.resources[urn] = M.MockMonitor.ResourceRegistration(urn, id_ or "", outputs)
        obj = _sync_await(rpc.serialize_properties(outputs, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=obj)

    def _record(self, request, urn, provider, version, options, wire_inputs, wire_outputs, id_) -> Dict[str, Any]:
        if options is None:
            dependencies, protect = list(request.dependencies), bool(request.protect)
            ignore, secret_outputs = list(request.ignoreChanges), list(request.additionalSecretOutputs)
            dbr_defined, dbr = bool(request.deleteBeforeReplaceDefined), bool(request.deleteBeforeReplace)
        else:
            dependencies, protect = list(options.depends_on), bool(options.protect)
            ignore, secret_outputs = list(options.ignore_changes), list(options.additional_secret_outputs)
            dbr_defined = options.HasField("delete_before_replace")
            dbr = bool(options.delete_before_replace) if dbr_defined else False
        for key in secret_outputs:  # the engine marks these outputs secret
            value = wire_outputs.get(key)
            if key in wire_outputs and not (isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG):
                wire_outputs[key] = {SIG_KEY: SECRET_SIG, "value": value}
        return {
            "urn": urn, "type": request.type, "name": request.name, "custom": bool(request.custom),
            "parent": request.parent, "provider": provider,
            "dependencies": list(dict.fromkeys(dependencies)),
            "propertyDependencies": {k: list(v.urns) for k, v in request.propertyDependencies.items() if v.urns},
            "inputs": wire_inputs, "outputs": wire_outputs, "id": id_ if request.custom else "",
            "version": version, "remote": bool(request.remote),
            "source": self.recorder.tracker.locations.get((request.type, request.name)),
            "options": {"protect": protect, "ignoreChanges": ignore,
                        "deleteBeforeReplace": dbr, "deleteBeforeReplaceDefined": dbr_defined,
                        "additionalSecretOutputs": secret_outputs,
                        # the engine sends aliases only when one matched old state: never on a
                        # first deployment, which is what the check evaluates
                        "aliases": []},
        }

    def _unseen_component(self, request, urn: str) -> Tuple[str, Dict[str, Any], Dict[str, Any]]:
        """A multi-language component: its plugin would construct children the check cannot see.
        Its outputs are unknown, as at a first preview (never None: a program reading
        `lb.load_balancer.dns_name` carries on)."""
        recorder = self.recorder
        accepted = next((glob for glob in self.allow_unseen if fnmatch.fnmatchcase(request.type, glob)), None)
        with recorder.lock:
            recorder.unseen.append({"urn": urn, "type": request.type, "name": request.name, "acceptedBy": accepted,
                                    "source": recorder.tracker.locations.get((request.type, request.name))})
        names = recorder.tracker.output_names.get((request.type, request.name), ())
        outputs = {name: _UNKNOWN_WIRE for name in names}
        return "", outputs, {}

    def _outputs(self, request, inputs, wire_inputs, is_provider, urn, provider):
        """(id, outputs for the program, outputs in wire form for AnalyzeStack)."""
        recorder = self.recorder
        if not request.custom:
            return "", inputs, dict(wire_inputs)
        if is_provider:
            return recorder.provider_id(urn) if not recorder.preview else "", inputs, dict(wire_inputs)
        try:
            id_, full = fabricate(request.type, request.name, json_safe(inputs),
                                  recorder.env_for(wire_inputs, provider), False)
        except Exception as exc:  # noqa: BLE001 - reported, and the program carries on with its inputs
            recorder.warnings.append(f"could not fabricate outputs of {request.type} {request.name}: {exc}")
            id_, full = f"{request.name}-id", dict(inputs)
        computed = {k: v for k, v in full.items() if k not in wire_inputs}
        # AWS also sets fields inside blocks the user gave (vpcConfig.vpcId...): keep those
        # fills, never overriding what the user set (nor a secret or unknown value).
        wire_outputs = {k: fill_missing(v, full.get(k)) for k, v in wire_inputs.items()}
        if recorder.preview:
            # A first preview: inputs are known, computed outputs (and the id) are not.
            for key, value in computed.items():
                wire_outputs[key] = unknown_like(value)
            wire_outputs["id"] = UNKNOWN_ID
            return "", inputs, wire_outputs
        wire_outputs.update(json_safe(computed))
        wire_outputs["id"] = id_
        program_outputs = dict(inputs)
        program_outputs.update(computed)
        for key, value in wire_outputs.items():
            if key in inputs and isinstance(value, dict) and isinstance(inputs[key], dict):
                program_outputs[key] = fill_missing(inputs[key], full.get(key))
        return id_, program_outputs, wire_outputs

    def RegisterResourceOutputs(self, request):
        outputs = engine_wire(json_format.MessageToDict(request.outputs))
        with self.recorder.lock:
            record = self.recorder.by_urn.get(request.urn)
            if record is not None and not record["custom"]:
                record["outputs"] = outputs
        return empty_pb2.Empty()

    def ReadResource(self, request):
        recorder = self.recorder
        M._ensure_event_loop()
        urn = self.make_urn(request.parent, request.type, request.name)
        wire_inputs = json_format.MessageToDict(request.properties)
        location = recorder.tracker.locations.get((request.type, request.name))
        if request.type == "pulumi:pulumi:StackReference":
            referenced = wire_inputs.get("name") if isinstance(wire_inputs.get("name"), str) else request.id
            with recorder.lock:
                recorder.reads.append({"kind": "stack-reference", "urn": urn, "type": request.type,
                                       "name": request.name, "stack": referenced, "source": location})
            props = _sync_await(rpc.serialize_properties({"name": referenced}, {}))
            # unknown=True: its outputs stay unknown, in update mode too (a skipped read).
            return resource_pb2.ReadResourceResponse(urn=urn, properties=props, unknown=True)
        given = json_safe(rpc.deserialize_properties(request.properties))
        try:
            _id, state = fabricate(request.type, request.name, given, recorder.env_for(given, request.provider), False)
        except Exception as exc:  # noqa: BLE001 - reported, and the program carries on with what it gave
            recorder.warnings.append(f"could not fabricate the state of {request.type} {request.name}: {exc}")
            state = dict(given)
        state = dict(state)
        state["id"] = request.id
        self.resources[urn] = M.MockMonitor.ResourceRegistration(urn, request.id, state)
        with recorder.lock:
            recorder.reads.append({"kind": "read", "urn": urn, "type": request.type, "name": request.name,
                                   "id": request.id, "source": location})
        props = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.ReadResourceResponse(urn=urn, properties=props)


__all__ = ["RecordingMocks", "RecordingMonitor"]
