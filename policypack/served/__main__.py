# This installed copy of payments-guard served as a policy pack: `<python> -u -m pulumi.policy ADDR
# <this directory>` (how the CLI and the offline check start a pack) runs this file. It serves the
# package it sits in, whatever else is on the path; nothing may print before the port line.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from policypack.pack import build_pack  # noqa: E402

build_pack().serve()
