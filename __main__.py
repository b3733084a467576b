# The entry point `pulumi preview --policy-pack <this dir>` runs (via `python -m pulumi.policy`).
# It only builds the pack from `policypack` and serves it; nothing may print before the port line.
from policypack.pack import build_pack

build_pack().serve()
