"""payments-guard: a Pulumi CrossGuard policy pack for payment platforms on AWS ECS Fargate."""

__version__ = "0.1.0"
PACK_NAME = "payments-guard"
PACK_DESCRIPTION = ("Stops the infrastructure mistakes that break or endanger a payment-processing "
                    "platform on AWS ECS Fargate, before they are deployed.")


def build_pack(*args, **kwargs):
    """See `policypack.pack.build_pack` (imported lazily to keep `import policypack` light)."""
    from .pack import build_pack as _build_pack
    return _build_pack(*args, **kwargs)
