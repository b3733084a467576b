"""fargate-capacity-providers and ecs-container-insights."""
import pytest
from hypothesis import given, settings, strategies as st

from harness import Harness, UNKNOWN, assert_violation, policies_of, resource, secret, urn

CL = "aws:ecs/cluster:Cluster"
CCP = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
CL_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/payments"
STRATEGY = [{"capacityProvider": "FARGATE", "base": 1.0, "weight": 1.0},
            {"capacityProvider": "FARGATE_SPOT", "weight": 3.0}]


@pytest.fixture(scope="module")
def cap():
    return Harness(["fargate-capacity-providers"])


@pytest.fixture(scope="module")
def ins():
    return Harness(["ecs-container-insights"])


def cluster(name="cluster", cluster_name="payments", **props):
    return resource(CL, name, {"arn": CL_ARN if cluster_name == "payments" else CL_ARN + "-" + cluster_name,
                               "name": cluster_name, **props})


def ccp(name="cp", cluster_name="payments", providers=("FARGATE", "FARGATE_SPOT"), strategies=None, **links):
    props = {"clusterName": cluster_name, "capacityProviders": list(providers) if isinstance(providers, tuple)
             else providers, "defaultCapacityProviderStrategies": STRATEGY if strategies is None else strategies}
    return resource(CCP, name, props, **links)


# --- fargate-capacity-providers ---------------------------------------------------------------

def test_capacity_compliant(cap):
    assert cap.analyze_stack([cluster(), ccp()]) == []


@pytest.mark.parametrize("strategies", [
    [{"capacityProvider": "FARGATE", "base": 2.0}],
    [{"capacityProvider": "FARGATE_SPOT", "weight": 4.0}, {"capacityProvider": "fargate", "base": 1.0, "weight": 1.0}],
    {"capacityProvider": "FARGATE", "base": "1"},
])
def test_capacity_compliant_shapes(cap, strategies):
    assert cap.analyze_stack([cluster(), ccp(strategies=strategies)]) == []


def test_capacity_cluster_name_as_arn(cap):
    assert cap.analyze_stack([cluster(), ccp(cluster_name=CL_ARN)]) == []


def test_capacity_linked_by_property_dependency_at_preview(cap):
    c = cluster(name="cluster", cluster_name="payments")
    c["props"]["name"] = UNKNOWN
    assert cap.analyze_stack([c, ccp(cluster_name=UNKNOWN, propertyDependencies={"clusterName": [c["urn"]]})]) == []


def test_capacity_missing(cap):
    diags = cap.analyze_stack([cluster()])
    assert_violation(diags, "fargate-capacity-providers", urn=urn(CL, "cluster"), path="capacityProviders", level="advisory", only=True)


def test_capacity_message_proposes_the_fix(cap):
    """The wording test of fargate-capacity-providers: the resource to add and how to bind it."""
    message = cap.analyze_stack([cluster()])[0].message
    assert "ClusterCapacityProviders" in message and "cluster_name=cluster.name" in message


def test_capacity_for_another_cluster(cap):
    diags = cap.analyze_stack([cluster(), cluster("other", "batch"), ccp(cluster_name="batch")])
    assert len(diags) == 1 and diags[0].urn == urn(CL, "cluster")


def test_capacity_preview_bound_elsewhere_by_dependency(cap):
    a, b = cluster(), cluster("other", "batch")
    diags = cap.analyze_stack([a, b, ccp(cluster_name=UNKNOWN, propertyDependencies={"clusterName": [b["urn"]]})])
    assert len(diags) == 1 and diags[0].urn == a["urn"]


def test_capacity_undetermined_binding_is_lenient(cap):
    assert cap.analyze_stack([cluster(), ccp(cluster_name=UNKNOWN)]) == []


@pytest.mark.parametrize("providers", [("FARGATE",), ("FARGATE_SPOT",), (), "FARGATE"])
def test_capacity_providers_missing(cap, providers):
    diags = cap.analyze_stack([cluster(), ccp(providers=providers)])
    assert_violation(diags, "fargate-capacity-providers", urn=urn(CCP, "cp"), path="capacityProviders", level="advisory", only=True)


@pytest.mark.parametrize("strategies, path", [
    ([{"capacityProvider": "FARGATE", "base": 0.0, "weight": 1.0}], "defaultCapacityProviderStrategies[0].base"),
    ([{"capacityProvider": "FARGATE", "weight": 1.0}, {"capacityProvider": "FARGATE_SPOT", "weight": 1.0}],
     "defaultCapacityProviderStrategies[0].base"),
    ([{"capacityProvider": "FARGATE_SPOT", "base": 2.0, "weight": 1.0}], "defaultCapacityProviderStrategies"),
    ([], "defaultCapacityProviderStrategies"),
    ([{"capacityProvider": "FARGATE", "base": "many"}], "defaultCapacityProviderStrategies[0].base"),
])
def test_capacity_fargate_base(cap, strategies, path):
    diags = cap.analyze_stack([cluster(), ccp(strategies=strategies)])
    assert_violation(diags, "fargate-capacity-providers", urn=urn(CCP, "cp"), path=path, only=True)


def test_capacity_no_strategy_at_all(cap):
    c = ccp()
    del c["props"]["defaultCapacityProviderStrategies"]
    diags = cap.analyze_stack([cluster(), c])
    assert_violation(diags, "fargate-capacity-providers", urn=urn(CCP, "cp"), path="defaultCapacityProviderStrategies", only=True)


def test_capacity_both_pieces_missing(cap):
    diags = cap.analyze_stack([cluster(), ccp(providers=("FARGATE",), strategies=[])])
    assert len(diags) == 2


@pytest.mark.parametrize("changes", [
    {"capacityProviders": UNKNOWN, "defaultCapacityProviderStrategies": UNKNOWN},
    {"capacityProviders": ["FARGATE", UNKNOWN]},
    {"defaultCapacityProviderStrategies": [{"capacityProvider": UNKNOWN, "base": 1.0}]},
    {"defaultCapacityProviderStrategies": [{"capacityProvider": "FARGATE", "base": UNKNOWN}]},
    {"defaultCapacityProviderStrategies": [UNKNOWN]},
])
def test_capacity_unknowns_are_lenient(cap, changes):
    c = ccp()
    c["props"].update(changes)
    assert cap.analyze_stack([cluster(), c]) == []


def test_capacity_best_candidate_wins(cap):
    assert cap.analyze_stack([cluster(), ccp("bad", strategies=[]), ccp("good")]) == []
    diags = cap.analyze_stack([cluster(), ccp("worse", providers=(), strategies=[]), ccp("bad", strategies=[])])
    assert len(diags) == 1 and diags[0].urn == urn(CCP, "bad")


def test_capacity_config():
    h = Harness(["fargate-capacity-providers"], config={"fargate-capacity-providers": {"minFargateBase": 2}})
    assert len(h.analyze_stack([cluster(), ccp()])) == 1
    h.configure({"fargate-capacity-providers": {"minFargateBase": 0, "requiredCapacityProviders": ["FARGATE"]}})
    assert h.analyze_stack([cluster(), ccp(providers=("FARGATE",), strategies=[])]) == []
    h.configure({"fargate-capacity-providers": {"requiredCapacityProviders": "FARGATE"}})  # malformed: defaults
    assert len(h.analyze_stack([cluster(), ccp(providers=("FARGATE",))])) == 1
    h.configure({"fargate-capacity-providers": "mandatory"})
    assert [d.level for d in h.analyze_stack([cluster()])] == ["mandatory"]


def test_capacity_no_clusters(cap):
    assert cap.analyze_stack([]) == []
    assert cap.analyze_stack([ccp()]) == []


@pytest.mark.parametrize("props", [
    {"clusterName": 5.0}, {"clusterName": ["payments"]},
    {"clusterName": "payments", "capacityProviders": [None, 3.0, {"a": 1}]},
    {"clusterName": "payments", "capacityProviders": 7.0, "defaultCapacityProviderStrategies": "FARGATE"},
    {"clusterName": "payments", "defaultCapacityProviderStrategies": [None, 1.0, {"capacityProvider": 3.0},
                                                                      {"capacityProvider": "FARGATE", "base": [1]}]},
])
def test_capacity_malformed_never_raises(cap, props):
    diags = cap.analyze_stack([cluster(), resource(CCP, "cp", props), resource(CL, "weird", {"name": 5.0})])
    assert all(d.policy == "fargate-capacity-providers" for d in diags)


# --- ecs-container-insights ------------------------------------------------------------------

@pytest.mark.parametrize("settings_", [
    [{"name": "containerInsights", "value": "enabled"}],
    [{"name": "containerInsights", "value": "enhanced"}],
    {"name": "containerInsights", "value": "enhanced"},
    [{"name": "other", "value": "x"}, {"name": "containerInsights", "value": "Enabled"}],
    [{"name": "containerInsights", "value": secret("enabled")}],
])
def test_insights_compliant(ins, settings_):
    assert ins.analyze(CL, {"name": "payments", "settings": settings_}) == []


@pytest.mark.parametrize("props, path", [
    ({}, "settings"),
    ({"settings": []}, "settings"),
    ({"settings": [{"name": "other", "value": "enabled"}]}, "settings"),
    ({"settings": [{"name": "containerInsights", "value": "disabled"}]}, "settings[0].value"),
    ({"settings": [{"name": "containerInsights"}]}, "settings[0].value"),
    ({"settings": [{"name": "containerInsights", "value": 1.0}]}, "settings[0].value"),
    ({"settings": "containerInsights"}, "settings"),
])
def test_insights_violations(ins, props, path):
    diags = ins.analyze(CL, props, name="payments-cluster")
    assert_violation(diags, "ecs-container-insights", name="payments-cluster", path=path, level="mandatory", only=True)


def test_insights_secret_value_not_shown(ins):
    diags = ins.analyze(CL, {"settings": [{"name": "containerInsights", "value": secret("hush-disabled")}]})
    assert_violation(diags, "ecs-container-insights", path="settings[0].value", only=True)
    assert "hush" not in diags[0].message


@pytest.mark.parametrize("props", [
    {"settings": UNKNOWN},
    {"settings": [UNKNOWN]},
    {"settings": [{"name": UNKNOWN, "value": "enabled"}]},
    {"settings": [{"name": "containerInsights", "value": UNKNOWN}]},
])
def test_insights_unknown_is_lenient(ins, props):
    assert ins.analyze(CL, props) == []
    assert ins.not_applicable(CL, props) == []


def test_insights_require_enhanced():
    h = Harness(["ecs-container-insights"], config={"ecs-container-insights": {"requireEnhanced": True}})
    assert h.analyze(CL, {"settings": [{"name": "containerInsights", "value": "enhanced"}]}) == []
    diags = h.analyze(CL, {"settings": [{"name": "containerInsights", "value": "enabled"}]})
    assert_violation(diags, "ecs-container-insights", path="settings[0].value", only=True)


def test_insights_message_proposes_the_fix():
    """The wording test of ecs-container-insights: the value to set."""
    h = Harness(["ecs-container-insights"], config={"ecs-container-insights": {"requireEnhanced": True}})
    message = h.analyze(CL, {"settings": [{"name": "containerInsights", "value": "enabled"}]})[0].message
    assert '"enhanced"' in message


def test_insights_other_types_ignored(ins):
    assert ins.analyze(CCP, {}) == []


@pytest.mark.parametrize("props", [{"settings": [None, 1.0, [], {"name": 5.0}]}, {"settings": {"name": ["x"]}},
                                   {"settings": True}])
def test_insights_malformed_never_raises(ins, props):
    assert all(d.policy == "ecs-container-insights" for d in ins.analyze(CL, props))


JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=6) | st.sampled_from([UNKNOWN, "FARGATE", "FARGATE_SPOT", "payments",
                                                             "containerInsights", "enabled"]),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(
                        st.sampled_from(["name", "value", "capacityProvider", "base", "weight"]), children, max_size=3),
                    max_leaves=10)


@settings(max_examples=150, deadline=None)
@given(cl=st.dictionaries(st.sampled_from(["name", "settings", "arn"]), JSON, max_size=3),
       cp=st.dictionaries(st.sampled_from(["clusterName", "capacityProviders", "defaultCapacityProviderStrategies"]),
                          JSON, max_size=3))
def test_fuzz_never_raises(cl, cp):
    h = Harness(["fargate-capacity-providers", "ecs-container-insights"])
    h.analyze(CL, cl)
    h.analyze_stack([resource(CL, "c", cl), resource(CCP, "cp", cp), cluster(), ccp()])
