"""The offline check and audit: one pipeline from a source of resources to a report, no CLI, plugin
or cloud.

    source                      evaluator                     report
    check.py  (a program run,   evaluate.py (starts the pack   reports.py (text, json, sarif,
               runner.py)   ->   as the CLI does, client.py,  ->  junit, github, html; one
    state.py  (a stack export)   calls it in the engine's       stack or many, many.py)
                                 order)

A new source yields an `evaluate.Evaluation`; a new format renders a `Report`.
"""
