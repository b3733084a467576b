"""`--format html`: one self-contained page for the people who read compliance rather than logs.

A stack x policy matrix, a chart of violations by policy and severity (inline SVG), and per stack its
findings with resource, property and fix. The page loads nothing (no script at all, no external
stylesheet, font or image) and its Content-Security-Policy forbids it to. Everything a program or a
state file controls (names, types, tags, messages, file names) is data: it goes through
`html.escape` on its way in, never into markup.
"""
from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

SEVERITIES = ("critical", "high", "medium", "low", "")
SEVERITY_COLOURS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#f59e0b", "low": "#60a5fa", "": "#9ca3af"}
LEVEL_ORDER = {"mandatory": 0, "advisory": 1}
#: a matrix cell's states, worst first, as the legend explains them
CELL_STATES = {"mandatory": "a mandatory violation: the stack fails",
               "advisory": "advisory violations only", "baselined": "every violation is in the baseline",
               "pass": "no violation", "disabled": "the policy is disabled", "absent": "not in this stack's pack"}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#111827;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.muted{color:#6b7280}
.totals span{display:inline-block;margin-right:16px}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f9fafb;font-weight:600}
.matrix th.policy{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:500;font-size:12px}
.matrix td.cell{text-align:center;min-width:18px;padding:3px 4px;font-weight:600}
.matrix th.policy{padding:6px 3px}.matrix tbody th{white-space:nowrap}.scroll{overflow-x:auto;max-width:100%}
.cell.mandatory{background:#fecaca;color:#7f1d1d}.cell.advisory{background:#fef3c7;color:#92400e}
.cell.baselined{background:#e0e7ff;color:#3730a3}
.cell.pass{background:#dcfce7;color:#166534}.cell.disabled,.cell.absent{background:#f3f4f6;color:#9ca3af}
.level-mandatory{color:#b91c1c;font-weight:600}.level-advisory{color:#b45309;font-weight:600}
.errors li{color:#991b1b}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
table.findings{width:100%}td.resource,td.property,td.message,td.fix{overflow-wrap:anywhere}td.nowrap{white-space:nowrap}td.message{white-space:pre-wrap;width:34%}td.fix{width:30%}
.legend span{display:inline-block;margin-right:14px}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
"""


def _e(value: Any) -> str:
    """Text for the page: anything a program or state file controls, escaped (quotes too: attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _list(value: Any) -> List[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _dicts(value: Any) -> List[Mapping]:
    return [item for item in _list(value) if isinstance(item, Mapping)]


def _stack_label(stack: Mapping) -> str:
    project, name = stack.get("project") or "", stack.get("stack") or ""
    return f"{project}/{name}" if project else str(name or "(unnamed stack)")


def _remediations() -> Dict[str, str]:
    """The pack's own fix texts by policy name (a report from another pack falls back to its URL)."""
    try:
        from ..rules import ALL_RULES
    except Exception:  # noqa: BLE001 - the page must render even if the pack cannot be imported
        return {}
    return {rule.name: rule.remediation for rule in ALL_RULES if rule.remediation}


def _policy_order(stacks: Sequence[Mapping]) -> List[Tuple[str, Mapping]]:
    """Every policy any stack ran or reported, in the first report's order, with its metadata."""
    order: Dict[str, Mapping] = {}
    for stack in stacks:
        for policy in _dicts(stack.get("policies")):
            name = policy.get("name")
            if isinstance(name, str) and name not in order:
                order[name] = policy
    for stack in stacks:
        for violation in _dicts(stack.get("violations")):
            name = violation.get("policyName")
            if isinstance(name, str) and name not in order:
                order[name] = {"name": name}
    return list(order.items())


def _cell(stack: Mapping, policy: str) -> Tuple[str, int, str]:
    """(state, count, tooltip) of one matrix cell."""
    found = [v for v in _dicts(stack.get("violations")) if v.get("policyName") == policy]
    if found:
        mandatory = [v for v in found if v.get("enforcementLevel") == "mandatory" and not v.get("baselined")]
        baselined = [v for v in found if v.get("baselined")]
        # a cell whose every violation is in the baseline fails nothing and asks nothing new
        state = "mandatory" if mandatory else ("baselined" if len(baselined) == len(found) else "advisory")
        return state, len(found), (f"{len(found)} violation(s), {len(mandatory)} mandatory, "
                                   f"{len(baselined)} baselined")
    ran = {p.get("name"): p for p in _dicts(stack.get("policies"))}
    if policy not in ran:
        return "absent", 0, "not in this stack's pack"
    if ran[policy].get("enforcementLevel") == "disabled":
        return "disabled", 0, "disabled"
    return "pass", 0, "no violation"


def _matrix(stacks: Sequence[Mapping], policies: Sequence[Tuple[str, Mapping]]) -> str:
    head = "".join(f'<th class="policy" scope="col" title="{_e(meta.get("description", ""))}">{_e(name)}</th>'
                   for name, meta in policies)
    rows = []
    for index, stack in enumerate(stacks):
        cells = []
        for name, _ in policies:
            state, count, tip = _cell(stack, name)
            text = str(count) if count else {"pass": "✓", "disabled": "–", "absent": ""}[state]
            cells.append(f'<td class="cell {state}" data-stack="{_e(_stack_label(stack))}" data-policy="{_e(name)}" '
                         f'data-count="{count}" data-state="{state}" title="{_e(tip)}">{_e(text)}</td>')
        rows.append(f'<tr><th scope="row"><a href="#stack-{index}">{_e(_stack_label(stack))}</a></th>{"".join(cells)}</tr>')
    legend = "".join(f'<span title="{_e(meaning)}"><i class="swatch cell {state}"></i>{state}</span>'
                     for state, meaning in CELL_STATES.items())
    return (f'<div class="scroll"><table class="matrix" id="matrix"><thead><tr><th scope="col">stack</th>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>'
            f'<div class="legend matrix-legend" id="matrix-legend">{legend}</div>')


def _chart(stacks: Sequence[Mapping]) -> str:
    """Violations by policy (one bar each), split by severity: inline SVG, no script."""
    counts: Dict[str, Dict[str, int]] = {}
    for stack in stacks:
        for violation in _dicts(stack.get("violations")):
            policy = str(violation.get("policyName") or "?")
            severity = violation.get("severity") if violation.get("severity") in SEVERITY_COLOURS else ""
            counts.setdefault(policy, dict.fromkeys(SEVERITIES, 0))[severity] += 1
    if not counts:
        return '<p class="muted" id="chart-empty">No violations.</p>'
    bars = sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    widest = max(sum(c.values()) for _, c in bars)
    label_width, bar_width, row = 290, 420, 22
    height = row * len(bars) + 10
    parts = [f'<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 60}" '
             f'height="{height}" role="img" aria-label="violations by policy and severity">']
    for index, (policy, by_severity) in enumerate(bars):
        y = 5 + index * row
        parts.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" font-size="12">{_e(policy)}</text>')
        x = float(label_width)
        for severity in SEVERITIES:
            count = by_severity[severity]
            if not count:
                continue
            width = bar_width * count / widest
            parts.append(f'<rect class="bar" data-policy="{_e(policy)}" data-severity="{_e(severity or "unspecified")}" '
                         f'data-count="{count}" x="{x:.1f}" y="{y}" width="{width:.1f}" height="{row - 6}" '
                         f'fill="{SEVERITY_COLOURS[severity]}"><title>{_e(policy)}: {count} '
                         f'{_e(severity or "unspecified")}</title></rect>')
            x += width
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 14}" font-size="12">{sum(by_severity.values())}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span><i class="swatch" style="background:{SEVERITY_COLOURS[s]}"></i>{_e(s or "unspecified")}</span>'
                     for s in SEVERITIES)
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _stack_section(index: int, stack: Mapping, fixes: Mapping[str, str], urls: Mapping[str, str]) -> str:
    summary = stack.get("summary") if isinstance(stack.get("summary"), Mapping) else {}
    out = [f'<section class="stack" id="stack-{index}"><h3>{_e(_stack_label(stack))}</h3>',
           f'<p class="muted">{_e(stack.get("resources", "?"))} resources · {_e(summary.get("mandatory", 0))} mandatory · '
           f'{_e(summary.get("advisory", 0))} advisory · {_e(stack.get("mode", ""))} · exit {_e(summary.get("exitCode", ""))}'
           + (f' · <span class="mono">{_e(stack.get("program"))}</span>' if stack.get("program") else "") + "</p>"]
    violations = sorted(_dicts(stack.get("violations")), key=lambda v: (
        LEVEL_ORDER.get(v.get("enforcementLevel"), 2), SEVERITIES.index(v.get("severity")) if v.get("severity") in SEVERITIES
        else len(SEVERITIES), str(v.get("policyName")), str(v.get("resourceName"))))
    if violations:
        rows = []
        for v in violations:
            policy = str(v.get("policyName") or "")
            fix = fixes.get(policy, "")
            link = urls.get(policy, "")
            fix_html = _e(fix) if fix else (f'see <span class="mono">{_e(link)}</span>' if link else "see the message")
            level = str(v.get("enforcementLevel") or "")
            rows.append(
                f'<tr class="finding" data-policy="{_e(policy)}"><td class="nowrap level-{_e(level)}">{_e(level)}'
                f'{" (baselined)" if v.get("baselined") else ""}</td><td class="nowrap">{_e(v.get("severity") or "")}</td>'
                f'<td class="mono">{_e(policy)}</td>'
                f'<td class="resource"><span class="mono">{_e(v.get("resourceType") or "")}</span><br>'
                f'<span class="resource-name">{_e(v.get("resourceName") or "(stack)")}</span></td>'
                f'<td class="mono property">{_e(v.get("property") or "")}</td>'
                f'<td class="message">{_e(v.get("message") or "")}</td><td class="fix">{fix_html}</td></tr>')
        out.append('<table class="findings"><thead><tr><th>level</th><th>severity</th><th>policy</th><th>resource</th>'
                   f'<th>property</th><th>finding</th><th>fix</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
    else:
        out.append('<p class="muted">No policy violations.</p>')
    findings = _dicts(stack.get("programFindings"))
    if findings:
        items = "".join(f'<li><span class="level-{_e(f.get("level"))}">{_e(f.get("level"))}</span> '
                        f'<span class="mono">{_e(f.get("id"))}</span>: {_e(f.get("message"))}</li>' for f in findings)
        out.append(f'<h4>Program findings</h4><ul class="program-findings">{items}</ul>')
    out.append("</section>")
    return "".join(out)


def render_html(stacks: Sequence[Mapping[str, Any]], errors: Iterable[Mapping[str, Any]] = (),
                title: Optional[str] = None) -> str:
    """The page for per-stack JSON reports (`reports.to_json_dict`) and inputs that could not be
    evaluated (`{"input": ..., "error": ...}`)."""
    stacks = [s for s in stacks if isinstance(s, Mapping)]
    errors = [e for e in errors if isinstance(e, Mapping)]
    policies = _policy_order(stacks)
    fixes = _remediations()
    urls = {name: str(meta.get("url") or "") for name, meta in policies}
    mandatory = sum(1 for s in stacks for v in _dicts(s.get("violations"))
                    if v.get("enforcementLevel") == "mandatory" and not v.get("baselined"))
    advisory = sum(1 for s in stacks for v in _dicts(s.get("violations"))
                   if v.get("enforcementLevel") == "advisory" and not v.get("baselined"))
    baselined = sum(1 for s in stacks for v in _dicts(s.get("violations")) if v.get("baselined"))
    failing = sum(1 for s in stacks if any(v.get("enforcementLevel") == "mandatory" and not v.get("baselined")
                                           for v in _dicts(s.get("violations"))))
    pack = next((s.get("pack") for s in stacks if isinstance(s.get("pack"), Mapping)), {}) or {}
    heading = title or "payments-guard compliance report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # nothing to load and nothing to run: even a value that escaped escaping could not act
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(heading)}</h1>",
        f'<p class="muted">pack {_e(pack.get("name", "?"))} {_e(pack.get("version", ""))} · '
        f"{len(stacks)} stack(s) evaluated · {len(policies)} policies</p>",
        f'<p class="totals" id="totals"><span><b>{failing}</b> stack(s) failing</span>'
        f'<span><b>{mandatory}</b> mandatory</span><span><b>{advisory}</b> advisory</span>'
        f'<span><b>{baselined}</b> baselined</span>'
        f'<span><b>{len(errors)}</b> input(s) not evaluated</span></p>',
    ]
    if errors:
        items = "".join(f'<li><span class="mono">{_e(e.get("input"))}</span>: {_e(e.get("error"))}</li>' for e in errors)
        parts.append(f'<h2>Inputs not evaluated</h2><ul class="errors" id="errors">{items}</ul>')
    parts.append("<h2>Stacks × policies</h2>")
    parts.append(_matrix(stacks, policies) if stacks else '<p class="muted">No stack was evaluated.</p>')
    parts.append("<h2>Violations by policy and severity</h2>")
    parts.append(_chart(stacks))
    parts.append("<h2>Findings per stack</h2>")
    parts.extend(_stack_section(index, stack, fixes, urls) for index, stack in enumerate(stacks))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
