"""Run a small Pulumi program in-process under mocks that fabricate outputs and answer invokes
(shared by the fabricate and invokes tests)."""
import typing

import pulumi

from policypack.offline.fabricate import Environment, fabricate
from policypack.offline.invokes import answer_invoke

ENV = Environment(stack="dev", project="proj")


class FabricatingMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return fabricate(args.typ, args.name, args.inputs, ENV, preview=False)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return answer_invoke(args.token, args.args, ENV) or {}


def run_program(program) -> typing.Any:
    """Run `program` (returning any Input) under fresh mocks and return its resolved value."""
    pulumi.runtime.set_mocks(FabricatingMocks(), project="proj", stack="dev", preview=False)
    captured: dict = {}

    @pulumi.runtime.test
    def run():
        return pulumi.Output.from_input(program()).apply(lambda value: captured.setdefault("value", value))

    run()
    return captured["value"]
